// What the one-process soak counts, and the facts each figure is judged by: which token each scope
// set holds, and when the token server is healthy for whom. The fewest token requests the run allows
// are in minimum-requests.ts. Everything here is O(scope sets) in memory, whatever the run's length.
import type { FaultKind } from './faults.js';
import { MinimumRequests } from './minimum-requests.js';

/** The settings the figures depend on, in ms. */
export interface TallySettings {
  /** Lifetime of the tokens the server issues. */
  readonly tokenLifetimeMs: number;
  /** `retry.maxTimeoutMs`: the longest backoff after a retryable failure (`Retry-After` is capped to it). */
  readonly maxTimeoutMs: number;
  /** `retry.fatalMinTimeoutMs` and `retry.fatalMaxTimeoutMs`: how long a fatal answer is remembered. */
  readonly fatalMinTimeoutMs: number;
  readonly fatalMaxTimeoutMs: number;
}

/** One scope set of one manager, as the soak sees it. */
interface ScopeSetFacts {
  /** Until when (monotonic ms) the token the manager last announced (`tokenIssued`) is usable. */
  usableUntilMs: number;
  /** Fatal answers to this scope set in a row, and until when the SDK may remember the last one. */
  fatalStreak: number;
  fatalUntilMs: number;
}

/** A getToken() call being followed. */
export interface CallRecord {
  readonly manager: number;
  readonly scopeSet: string;
  readonly startMs: number;
  /** A usable token was cached when it was made. */
  readonly usableAtStart: boolean;
  /** The token server was healthy for it at some moment of its wait (see {@link SoakTally.healthy}). */
  sawHealthy: boolean;
  /** The same, without the backoff allowed after a fault: nothing was queued or hanging. */
  sawAnswering: boolean;
}

/** How a request met a queued fault: a retryable failure, a fatal one, a hang, or a token (too short, but usable). */
export type FaultAnswer = 'retryable' | 'fatal' | 'hang' | 'token';

export class SoakTally {
  readonly #settings: TallySettings;
  readonly #sets = new Map<string, ScopeSetFacts>();
  /** Per manager: until when (monotonic ms) a retryable fault it met may keep it failing. */
  readonly #retryableUntilMs: number[];
  /** Per manager: requests (or credential-function calls) of it that hang, or will: their fault is queued. */
  readonly #hanging: number[];
  readonly #waiting = new Set<CallRecord>();
  /** The manager whose secret was rotated, until the token server has refused its old secret once. */
  #secretRotatedFor: number | undefined;
  /** Token server faults queued and not yet taken by a request. */
  queuedFaults = 0;
  readonly minimum: MinimumRequests;

  // The counts the figures are made of.
  calls = 0;
  failedCalls = 0;
  /** Failed calls while a valid token could have been held: figure 1. */
  avoidableFailures = 0;
  /**
   * Failed calls that are not avoidable only because of the backoff allowed after a fault: the token
   * server would have answered a request at some moment of their wait, but within that backoff.
   */
  failuresWithinBackoff = 0;
  /** A few of the avoidable failures and needless waits, to say what went wrong. */
  readonly examples: string[] = [];
  /** Calls that waited while a usable token was cached: figure 2. */
  waitedWithTokenCached = 0;
  /** Token requests the token server received: figure 3, over `minimum.total()`. */
  tokenRequests = 0;
  /** The longest time any call took, in ms: figure 4. */
  longestWaitMs = 0;
  /** The faults drawn, by kind. */
  readonly faults = new Map<FaultKind, number>();
  /** Tokens served whose `exp` had passed on the token server's clock. */
  expiredTokensServed = 0;
  /** Tokens served that were signed with a key the server had rotated out (each is invalidated, and asked for again). */
  rotatedOutTokensServed = 0;

  constructor(settings: TallySettings, managers: number, startMs: number) {
    this.#settings = settings;
    this.#retryableUntilMs = new Array<number>(managers).fill(-Infinity);
    this.#hanging = new Array<number>(managers).fill(0);
    this.minimum = new MinimumRequests(settings.tokenLifetimeMs, startMs);
  }

  // ---- What happened in the run.

  /** A manager announced a token (`tokenIssued`): usable for `lifetimeMs` from `nowMs`. */
  tokenIssued(manager: number, scopeSet: string, nowMs: number, lifetimeMs: number): void {
    this.#facts(manager, scopeSet).usableUntilMs = nowMs + lifetimeMs;
  }

  /** `invalidate(token)` dropped the scope set's token. */
  tokenDropped(manager: number, scopeSet: string): void {
    this.#facts(manager, scopeSet).usableUntilMs = -Infinity;
  }

  faultDrawn(kind: FaultKind): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  /** A request of `manager` for `scopeSet` reached the token server, which answered it with a queued fault (or none). */
  requestSent(manager: number, scopeSet: string, nowMs: number, fault: FaultAnswer | undefined): void {
    this.tokenRequests++;
    if (fault === undefined) return;
    this.queuedFaults--;
    this.minimum.faultAnswers++;
    if (fault === 'fatal') {
      const facts = this.#facts(manager, scopeSet);
      facts.fatalStreak++;
      const { fatalMinTimeoutMs, fatalMaxTimeoutMs } = this.#settings;
      facts.fatalUntilMs = nowMs + Math.min(fatalMaxTimeoutMs, fatalMinTimeoutMs * 2 ** (facts.fatalStreak - 1));
    } else if (fault === 'retryable') {
      this.retryableFailure(manager, nowMs);
    }
  }

  /** A request of `manager` for `scopeSet` was answered with `status`. */
  answered(manager: number, scopeSet: string, status: number | undefined): void {
    if (status === 200) this.#facts(manager, scopeSet).fatalStreak = 0;
    if (status === 401 && manager === this.#secretRotatedFor) {
      this.#secretRotatedFor = undefined;
      this.minimum.secretRotationRefusals++;
    }
  }

  /** `manager` met a retryable failure at `nowMs`: it may back off for up to `retry.maxTimeoutMs`. */
  retryableFailure(manager: number, nowMs: number): void {
    this.#retryableUntilMs[manager] = Math.max(this.#retryableUntilMs[manager]!, nowMs + this.#settings.maxTimeoutMs);
  }

  /** A request or credential-function call of `manager` will hang (its fault is queued), or hangs now. */
  hangStarted(manager: number): void {
    this.#hanging[manager]!++;
  }

  /** That hang ended (the request was cut, the function call timed out) at `nowMs`: a retryable failure. */
  hangEnded(manager: number, nowMs: number): void {
    this.#hanging[manager]!--;
    this.retryableFailure(manager, nowMs);
  }

  /** The secret file of `manager` was rotated, and the token server switched to the new secret. */
  secretRotated(manager: number): void {
    this.#secretRotatedFor = manager;
  }

  // ---- Calls.

  /** A getToken() call was made at `nowMs`: `waited` says whether it did not resolve from the cache at once. */
  callStarted(manager: number, scopeSet: string, nowMs: number, waited: boolean): CallRecord {
    this.calls++;
    this.minimum.called(`${manager} ${scopeSet}`, nowMs);
    const usableAtStart = nowMs < this.#facts(manager, scopeSet).usableUntilMs;
    const call = {
      manager,
      scopeSet,
      startMs: nowMs,
      usableAtStart,
      sawHealthy: this.healthy(manager, scopeSet, nowMs),
      sawAnswering: this.#answering(manager),
    };
    if (waited && usableAtStart) {
      this.waitedWithTokenCached++;
      this.#example(`waited with a usable token cached: manager ${manager} [${scopeSet}] at ${nowMs}`);
    }
    if (waited) this.#waiting.add(call);
    return call;
  }

  /** The call ended at `nowMs`, with a token or an error. */
  callEnded(call: CallRecord, nowMs: number, error: unknown): void {
    this.#waiting.delete(call);
    this.longestWaitMs = Math.max(this.longestWaitMs, nowMs - call.startMs);
    if (error === undefined) return;
    this.failedCalls++;
    this.#observeCall(call, nowMs);
    if (!call.usableAtStart && !call.sawHealthy) {
      if (call.sawAnswering) this.failuresWithinBackoff++;
      return;
    }
    this.avoidableFailures++;
    const why = call.usableAtStart ? 'a usable token was cached' : 'the token server was healthy';
    const { code } = error as { code?: string };
    this.#example(`failed (${code}) while ${why}: manager ${call.manager} [${call.scopeSet}] ${call.startMs}–${nowMs}`);
  }

  /** Notes, for every call still waiting, whether the token server is healthy for it now. */
  observe(nowMs: number): void {
    for (const call of this.#waiting) this.#observeCall(call, nowMs);
  }

  #observeCall(call: CallRecord, nowMs: number): void {
    if (!call.sawHealthy && this.healthy(call.manager, call.scopeSet, nowMs)) call.sawHealthy = true;
    if (!call.sawAnswering && this.#answering(call.manager)) call.sawAnswering = true;
  }

  /** Calls waiting now. */
  get waitingCalls(): number {
    return this.#waiting.size;
  }

  /**
   * Whether the token server is healthy for `manager`'s `scopeSet` at `nowMs`: no fault is queued
   * (the next request, whoever sends it, gets a token), no request or credential-function call of
   * the manager hangs or is set to, and the backoff the SDK documents after the manager's last fault
   * has passed: `retry.maxTimeoutMs` after a retryable one (a 5xx, 429, reset, hang, or a token that
   * arrives expired), and for the scope set that got a fatal one, its fatal wait (`fatalMinTimeoutMs`,
   * doubling with each one in a row, up to `fatalMaxTimeoutMs`). A failure inside that backoff is the
   * price of not hammering a failing server, not a failure the SDK could have avoided.
   */
  healthy(manager: number, scopeSet: string, nowMs: number): boolean {
    if (!this.#answering(manager)) return false;
    if (nowMs < this.#retryableUntilMs[manager]!) return false;
    return nowMs >= (this.#sets.get(`${manager} ${scopeSet}`)?.fatalUntilMs ?? -Infinity);
  }

  /** A request of `manager` sent now would get a token: no fault is queued, and nothing of it hangs or is set to. */
  #answering(manager: number): boolean {
    return this.queuedFaults === 0 && this.#hanging[manager] === 0;
  }

  #facts(manager: number, scopeSet: string): ScopeSetFacts {
    const key = `${manager} ${scopeSet}`;
    let facts = this.#sets.get(key);
    if (facts === undefined) {
      facts = { usableUntilMs: -Infinity, fatalStreak: 0, fatalUntilMs: -Infinity };
      this.#sets.set(key, facts);
    }
    return facts;
  }

  #example(line: string): void {
    if (this.examples.length < 20) this.examples.push(line);
  }
}
