// What is in flight between the soak's managers and its token server, and when nothing is: the
// driver moves the clock only then, so that the run never depends on how long real work takes.
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { TokenManager } from '../../src/index.js';
import type { ManualClock } from '../../src/testing/index.js';
import type { FaultKind } from './faults.js';
import type { Exchange, RequestSequencer } from './request-sequencer.js';
import type { FaultAnswer, SoakTally } from './tally.js';
import type { TokenServerThread } from './token-server-thread.js';

/** Real time the soak waits for something in flight before calling the run stuck. */
const stuckAfterMs = 60_000;

/** What `InFlight` watches. */
export interface InFlightParts {
  readonly clock: ManualClock;
  readonly server: TokenServerThread;
  readonly sequencer: RequestSequencer;
  readonly managers: readonly TokenManager[];
  /** Client id to manager index. */
  readonly managerOf: ReadonlyMap<string, number>;
  readonly tally: SoakTally;
  /** The managers' `requestTimeoutMs`: how long a hung request or credential-function call lasts. */
  readonly requestTimeoutMs: number;
  /** How far the managers' wall clock is from true time now, in ms. */
  readonly wallClockOffsetMs: () => number;
  /** Adds a line to the run's digest. */
  readonly record: (line: string) => void;
}

/** A queued token-server fault, as the request that takes it will meet it. */
interface QueuedFault {
  readonly kind: FaultKind;
  /** A short token's lifetime. */
  readonly lifetimeMs: number | undefined;
}

export class InFlight {
  readonly #parts: InFlightParts;
  /** The faults queued on the token server, in the order requests will take them. */
  readonly #queued: QueuedFault[] = [];
  readonly #hungRequests: { readonly exchange: Exchange; readonly manager: number; readonly endsAtMs: number }[] = [];
  readonly #hungFunctionCalls: { readonly manager: number; readonly endsAtMs: number }[] = [];
  #released = 0;

  constructor(parts: InFlightParts) {
    this.#parts = parts;
  }

  /** `count` faults of `kind` were queued on the token server. */
  faultsQueued(kind: FaultKind, count: number, shortTokenLifetimeMs?: number): void {
    for (let i = 0; i < count; i++) this.#queued.push({ kind, lifetimeMs: shortTokenLifetimeMs });
    this.#parts.tally.queuedFaults += count;
  }

  /** A credential-function call of `manager` hangs from now: the manager drops it after `requestTimeoutMs`. */
  functionCallHung(manager: number): void {
    this.#hungFunctionCalls.push({
      manager,
      endsAtMs: this.#parts.clock.monotonicNow() + this.#parts.requestTimeoutMs,
    });
  }

  /** Something hangs now. */
  get hanging(): boolean {
    return this.#hungRequests.length > 0 || this.#hungFunctionCalls.length > 0;
  }

  /** When the next hang ends (monotonic ms), or Infinity. */
  nextHangEndMs(): number {
    return Math.min(
      ...this.#hungRequests.map((hang) => hang.endsAtMs),
      ...this.#hungFunctionCalls.map((hang) => hang.endsAtMs),
    );
  }

  /**
   * Ends the hangs due at `nowMs`: a hung request is cut (its connection dropped), as the manager's
   * `requestTimeoutMs` would end it, since that runs on real time (see process-soak.ts); a hung
   * function call the manager has dropped on its clock. Returns whether any was.
   */
  endHangsDue(nowMs: number): boolean {
    const { sequencer, tally } = this.#parts;
    const due = <T extends { readonly endsAtMs: number }>(hangs: T[]): T[] => {
      const ended = hangs.filter((hang) => hang.endsAtMs <= nowMs);
      hangs.splice(0, hangs.length, ...hangs.filter((hang) => hang.endsAtMs > nowMs));
      return ended;
    };
    const requests = due(this.#hungRequests);
    const functionCalls = due(this.#hungFunctionCalls);
    for (const hang of requests) sequencer.cut(hang.exchange);
    for (const hang of [...requests, ...functionCalls]) tally.hangEnded(hang.manager, nowMs);
    return requests.length + functionCalls.length > 0;
  }

  /**
   * Waits until nothing is in flight: lets the requests that arrive through one at a time, and returns
   * once every request the managers sent is answered and handled, or hangs as a fault says it must.
   */
  async settle(): Promise<void> {
    const { clock, server, sequencer, managers, tally } = this.#parts;
    let lastChange = performance.now();
    let lastState = '';
    for (;;) {
      await nextTurn();
      const now = clock.monotonicNow();
      server.setTime(now);
      const sent = managers.reduce((sum, manager) => sum + requestsInFlight(manager), 0);
      const { heldCount, passingCount, hungCount } = sequencer;
      // A hung function call is dropped by its manager on the clock, before endHangsDue() is told.
      const hungFunctionCalls = this.#hungFunctionCalls.filter((hang) => hang.endsAtMs > now).length;
      const seen = heldCount + passingCount + hungCount + hungFunctionCalls;
      const reading = readingFiles();
      if (sent === seen && passingCount === 0 && !reading) {
        if (heldCount === 0) return tally.observe(now);
        await this.#releaseNext(now);
        continue;
      }
      const state = `sent ${sent}, seen ${seen} (held ${heldCount}, passing ${passingCount}, hung ${hungCount}), reading files ${reading}`;
      if (state !== lastState) {
        lastState = state;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > stuckAfterMs) {
        throw new Error(`soak stuck at ${new Date(now).toISOString()}: ${state}`);
      }
    }
  }

  async #releaseNext(now: number): Promise<void> {
    const { sequencer, server, managerOf, tally, record, clock } = this.#parts;
    const queued = this.#queued.shift();
    const exchange = sequencer.releaseNext((done) => {
      tally.answered(managerOf.get(done.clientId) ?? -1, done.scope, done.status);
      record(`answered ${clock.monotonicNow()} ${done.clientId} ${done.scope} ${done.status}`);
    });
    this.#released++;
    const manager = managerOf.get(exchange.clientId) ?? -1;
    tally.requestSent(manager, exchange.scope, now, answerOf(queued, this.#parts.wallClockOffsetMs()));
    record(`request ${now} ${exchange.clientId} ${exchange.scope} ${queued?.kind ?? '-'}`);
    if (queued?.kind !== 'hang') return;
    // It hangs: let nothing else through before the server has taken it, and its fault.
    while ((await server.tokenRequestCount()) < this.#released) await nextTurn();
    sequencer.markHung(exchange);
    tally.hangStarted(manager);
    this.#hungRequests.push({ exchange, manager, endsAtMs: now + this.#parts.requestTimeoutMs });
  }
}

/** How a request meets a queued fault: a short token is a token, unless the wall clock is so far ahead that it arrives expired. */
function answerOf(queued: QueuedFault | undefined, wallClockOffsetMs: number): FaultAnswer | undefined {
  if (queued === undefined) return undefined;
  if (queued.kind === 'fatal-once') return 'fatal';
  if (queued.kind === 'hang') return 'hang';
  if (queued.kind === 'short-tokens')
    return (queued.lifetimeMs ?? 0) > wallClockOffsetMs + 1000 ? 'token' : 'retryable';
  return 'retryable';
}

/** Token requests of `manager` sent and not yet answered and handled. */
function requestsInFlight(manager: TokenManager): number {
  const { tokenRequests, failedTokenRequests, tokensIssued } = manager.stats();
  return tokenRequests - failedTokenRequests - tokensIssued;
}

/**
 * A file is being read (a credential file, read again after a refusal): work the counts do not show.
 * `fs.promises.readFile` shows as `FSReqPromise` while it opens and reads, and `CloseReq` while it closes.
 */
function readingFiles(): boolean {
  return process.getActiveResourcesInfo().some((name) => name.startsWith('FSReq') || name === 'CloseReq');
}
