// The fewest token requests a run of the soak allows (figure 3 is the requests made over this).

/** Per scope set: the stretch of use its latest call belongs to. */
interface Stretch {
  /** The latest call (monotonic ms). */
  lastCallMs: number;
  /** Token lifetimes elapsed (see {@link MinimumRequests}) at the latest call and at the stretch's first. */
  lifetimesAtLastCall: number;
  lifetimesAtStart: number;
  /** Signing-key rotations since the latest call. */
  rotationsSinceLastCall: number;
  /** Tokens the scope set's earlier stretches needed. */
  tokensBefore: number;
}

/**
 * The fewest token requests the run allows. A scope set is in use from one call to the next, unless
 * they are more than a token lifetime apart (then no token needs to be held in between). Each
 * stretch of use needs a token, and one more per token lifetime it lasts; a lifetime counts
 * shortened by as much as the wall clock is ahead of true time (a client reads a JWT's `exp` on its
 * own clock, and must take it as that much nearer). A stretch of use across a signing-key rotation
 * needs one more (the token held is refused from then on). Add every request the faults force: each
 * fault answer, and the one refusal of the old secret after each secret rotation.
 */
export class MinimumRequests {
  readonly #tokenLifetimeMs: number;
  readonly #stretches = new Map<string, Stretch>();
  /** Token lifetimes elapsed from the start to `#lifetimesSinceMs`, and the lifetime since then. */
  #lifetimes = 0;
  #lifetimesSinceMs: number;
  #effectiveLifetimeMs: number;
  /** Fault answers the token server gave: each a request no client could have done without. */
  faultAnswers = 0;
  /** Secret rotations after which the old secret was refused once: likewise. */
  secretRotationRefusals = 0;

  constructor(tokenLifetimeMs: number, startMs: number) {
    this.#tokenLifetimeMs = tokenLifetimeMs;
    this.#effectiveLifetimeMs = tokenLifetimeMs;
    this.#lifetimesSinceMs = startMs;
  }

  /** The wall clock reads `offsetMs` away from true time from `nowMs` on. */
  wallClockStepped(nowMs: number, offsetMs: number): void {
    this.#lifetimes = this.#lifetimesAt(nowMs);
    this.#lifetimesSinceMs = nowMs;
    this.#effectiveLifetimeMs = this.#tokenLifetimeMs - Math.max(0, offsetMs);
  }

  signingKeyRotated(): void {
    for (const stretch of this.#stretches.values()) stretch.rotationsSinceLastCall++;
  }

  /** A call for scope set `key` at `nowMs`. */
  called(key: string, nowMs: number): void {
    const lifetimes = this.#lifetimesAt(nowMs);
    const stretch = this.#stretches.get(key);
    if (stretch === undefined) {
      this.#stretches.set(key, {
        lastCallMs: nowMs,
        lifetimesAtLastCall: lifetimes,
        lifetimesAtStart: lifetimes,
        rotationsSinceLastCall: 0,
        tokensBefore: 0,
      });
      return;
    }
    if (nowMs - stretch.lastCallMs > this.#tokenLifetimeMs) {
      // The stretch before ended a token lifetime ago: nothing needed a token in between.
      stretch.tokensBefore += tokensOf(stretch);
      stretch.lifetimesAtStart = lifetimes;
    } else {
      // Used across a rotation: the token held before it is refused now.
      stretch.tokensBefore += stretch.rotationsSinceLastCall;
    }
    stretch.rotationsSinceLastCall = 0;
    stretch.lastCallMs = nowMs;
    stretch.lifetimesAtLastCall = lifetimes;
  }

  total(): number {
    let tokens = 0;
    for (const stretch of this.#stretches.values()) tokens += stretch.tokensBefore + tokensOf(stretch);
    return tokens + this.faultAnswers + this.secretRotationRefusals;
  }

  #lifetimesAt(nowMs: number): number {
    return this.#lifetimes + (nowMs - this.#lifetimesSinceMs) / this.#effectiveLifetimeMs;
  }
}

/** Tokens the stretch ending at the latest call needs. */
function tokensOf(stretch: Stretch): number {
  return 1 + stretch.lifetimesAtLastCall - stretch.lifetimesAtStart;
}
