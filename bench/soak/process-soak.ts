// The one-process soak: 20 scope sets across 4 TokenManagers, callers at random times and faults
// drawn at random, for days of simulated time on a ManualClock, against a real MockTokenServer over
// loopback HTTP. What it measures is in tally.ts and soak-figures.ts.
//
// How a run stays reproducible (the same seed gives the same run):
// - Time moves only when nothing is in flight: the driver waits until every token request sent has
//   been answered and handled (or hangs, as a fault says it must), and no file is being read, then
//   moves the clock to the next timer or event. Real time spent waiting is never seen by the run.
// - Requests reach the token server one at a time, in a fixed order (request-sequencer.ts), so which
//   request takes a queued fault, and the order answers are handled in, is the same in every run.
// - Every random choice comes from the seed: the schedule from streams of their own, and the SDK's
//   jitter from `Math.random`, replaced by a seeded stream for the run (random.ts).
//
// One thing is simulated rather than real: a token request the server hangs is cut (its connection
// dropped) when `requestTimeoutMs` has passed on the run's clock. The SDK's own request timeout runs
// on real time, which a simulated run does not spend; the SDK sees a network failure instead of a
// timeout, and retries it the same way.
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ManualClock, writeTokenFile } from '../../src/testing/index.js';
import { drawFault, isServerFault, type FaultEpisode } from './faults.js';
import { heapUsedAfterGc } from './heap.js';
import { InFlight } from './in-flight.js';
import { Random, withMathRandom } from './random.js';
import { RequestSequencer } from './request-sequencer.js';
import { createSoakClients, secretFileManager, assertionFunctionManager, soakScopeSets } from './soak-clients.js';
import type { SoakClients, SoakScopeSet } from './soak-clients.js';
import { call, type CallerContext } from './soak-caller.js';
import { SoakTally } from './tally.js';
import { TokenServerThread } from './token-server-thread.js';

const dayMs = 86_400_000;
/** Where the run's clock starts: a fixed moment, so that every run issues the same expiry times. */
const startMs = Date.UTC(2030, 0, 1);
const tokenLifetimeSec = 3600;
/** The managers' `requestTimeoutMs`, `maxWaitMs` and `retry`: the defaults, given here because the figures are judged against them. */
const requestTimeoutMs = 10_000;
const maxWaitMs = 10_000;
const retry = {
  retries: 5,
  minTimeoutMs: 200,
  maxTimeoutMs: 30_000,
  fatalMinTimeoutMs: 60_000,
  fatalMaxTimeoutMs: 900_000,
};
/** A fault every three hours on average. */
const meanFaultGapMs = 3 * 3_600_000;

export interface ProcessSoakOptions {
  readonly seed: number;
  readonly days: number;
  /** Progress lines (one per simulated day). */
  readonly log?: (line: string) => void;
}

export interface ProcessSoakResult {
  readonly tally: SoakTally;
  /** Heap in use after GC after the warm-up (the first tenth of the run) and at the end, in bytes. */
  readonly heapBefore: number;
  readonly heapAfter: number;
  /** A hash of every request (time, client, scope, fault) and call outcome: equal for equal runs. */
  readonly digest: string;
  readonly wallTimeSec: number;
  readonly maxWaitMs: number;
}

export function runProcessSoak(options: ProcessSoakOptions): Promise<ProcessSoakResult> {
  const root = Random.fromSeed(options.seed);
  const streams = { sdk: root.split(), faults: root.split(), callers: root.split() };
  return withMathRandom(streams.sdk, () => new ProcessSoak(options, streams.faults, streams.callers).run());
}

class ProcessSoak {
  readonly #options: ProcessSoakOptions;
  readonly #faultRandom: Random;
  readonly #callerRandom: Random;
  readonly #clock = new ManualClock(startMs);
  readonly #tally: SoakTally;
  readonly #digest = createHash('sha256');
  #server!: TokenServerThread;
  #sequencer!: RequestSequencer;
  #clients!: SoakClients;
  #sets: SoakScopeSet[] = [];
  #callers!: CallerContext;
  #inFlight!: InFlight;
  #wallOffsetMs = 0;
  #nextFaultMs = 0;

  constructor(options: ProcessSoakOptions, faults: Random, callers: Random) {
    this.#options = options;
    this.#faultRandom = faults;
    this.#callerRandom = callers;
    this.#tally = new SoakTally({ tokenLifetimeMs: tokenLifetimeSec * 1000, ...retry }, 4, startMs);
  }

  async run(): Promise<ProcessSoakResult> {
    const wallStart = performance.now();
    const directory = await mkdtemp(join(tmpdir(), 'soak-'));
    this.#server = await TokenServerThread.start(startMs, tokenLifetimeSec);
    this.#sequencer = await RequestSequencer.start(this.#server.tokenEndpoint);
    try {
      this.#clients = await createSoakClients(this.#server, this.#sequencer.tokenEndpoint, this.#clock, {
        directory,
        onAssertionHang: () => this.#inFlight.functionCallHung(assertionFunctionManager),
        shared: { requestTimeoutMs, maxWaitMs, retry },
      });
      const record = (line: string): void => void this.#digest.update(`${line}\n`);
      this.#inFlight = new InFlight({
        clock: this.#clock,
        server: this.#server,
        sequencer: this.#sequencer,
        managers: this.#clients.managers,
        managerOf: this.#clients.managerOf,
        tally: this.#tally,
        requestTimeoutMs,
        wallClockOffsetMs: () => this.#wallOffsetMs,
        record,
      });
      this.#clients.managers.forEach((manager, index) =>
        manager.on('tokenIssued', (event) =>
          this.#tally.tokenIssued(index, event.scopes.join(' '), this.#clock.monotonicNow(), event.lifetimeMs),
        ),
      );
      this.#callers = {
        clock: this.#clock,
        managers: this.#clients.managers,
        tally: this.#tally,
        signingKid: () => this.#server.signingKid,
        record,
      };
      this.#sets = soakScopeSets(4, startMs, () => this.#callerRandom.logUniform(60_000, 2 * 3_600_000));
      for (const set of this.#sets) set.nextCallMs = startMs + this.#callerRandom.exponentialMs(set.meanGapMs);
      this.#nextFaultMs = startMs + this.#faultRandom.exponentialMs(meanFaultGapMs);
      const { heapBefore, heapAfter } = await this.#drive(startMs + this.#options.days * dayMs);
      const wallTimeSec = (performance.now() - wallStart) / 1000;
      return {
        tally: this.#tally,
        heapBefore,
        heapAfter,
        digest: this.#digest.digest('hex'),
        wallTimeSec,
        maxWaitMs,
      };
    } finally {
      for (const manager of this.#clients?.managers ?? []) manager.close();
      await this.#sequencer.close();
      await this.#server.close();
      await rm(directory, { recursive: true, force: true });
    }
  }

  /** Runs until `endMs`, then until every call has ended; returns the heap before and after. */
  async #drive(endMs: number): Promise<{ heapBefore: number; heapAfter: number }> {
    // A tenth of the run: long enough for most kinds of fault to have come, and their code to be compiled.
    const warmupEndMs = startMs + (endMs - startMs) / 10;
    let heapBefore: number | undefined;
    let nextDayMs = startMs + dayMs;
    for (;;) {
      await this.#inFlight.settle();
      const now = this.#clock.monotonicNow();
      if (heapBefore === undefined && now >= warmupEndMs) heapBefore = await heapUsedAfterGc();
      if (now >= nextDayMs) {
        this.#options.log?.(this.#progress(now));
        nextDayMs += dayMs;
      }
      if (await this.#runDueEvents(now, endMs)) continue;
      const ending = now >= endMs;
      if (ending && this.#tally.waitingCalls === 0 && !this.#inFlight.hanging) break;
      const next = Math.min(this.#nextEventMs(endMs), this.#clock.nextTimerAt() ?? Infinity);
      if (next === Infinity) throw new Error('soak: nothing left to happen, yet calls are waiting');
      await this.#clock.advance(next - now);
    }
    const heapAfter = await heapUsedAfterGc();
    return { heapBefore: heapBefore ?? heapAfter, heapAfter };
  }

  /** The next event of the schedule, or of a hang's end; only the latter once the run has ended. */
  #nextEventMs(endMs: number): number {
    const hangEnd = this.#inFlight.nextHangEndMs();
    if (this.#clock.monotonicNow() >= endMs) return hangEnd;
    return Math.min(endMs, hangEnd, this.#nextFaultMs, ...this.#sets.map((set) => set.nextCallMs));
  }

  /** Runs what is due at `now`, in a fixed order; returns whether anything was. */
  async #runDueEvents(now: number, endMs: number): Promise<boolean> {
    let ran = this.#inFlight.endHangsDue(now);
    if (now >= endMs) return ran;
    if (this.#nextFaultMs <= now) {
      await this.#inject(drawFault(this.#faultRandom, this.#wallOffsetMs), now);
      this.#nextFaultMs = now + this.#faultRandom.exponentialMs(meanFaultGapMs);
      ran = true;
    }
    for (const set of this.#sets) {
      if (set.nextCallMs > now) continue;
      const callers = this.#callerRandom.integer(1, 3);
      for (let i = 0; i < callers; i++) void call(this.#callers, set);
      set.nextCallMs = now + this.#callerRandom.exponentialMs(set.meanGapMs);
      ran = true;
    }
    return ran;
  }

  async #inject(episode: FaultEpisode, now: number): Promise<void> {
    this.#tally.faultDrawn(episode.kind);
    this.#digest.update(`fault ${now} ${JSON.stringify(episode)}\n`);
    if (isServerFault(episode)) {
      await this.#server.failNext(episode.count, episode.fault);
      const lifetimeMs = episode.fault.type === 'token' ? (episode.fault.expiresInSec ?? 0) * 1000 : undefined;
      this.#inFlight.faultsQueued(episode.kind, episode.count, lifetimeMs);
      return;
    }
    switch (episode.kind) {
      case 'signing-key-rotation':
        await this.#server.rotateSigningKey();
        this.#tally.minimum.signingKeyRotated();
        return;
      case 'wall-clock-step':
        this.#clock.stepWallClock(episode.stepMs);
        this.#wallOffsetMs += episode.stepMs;
        this.#tally.minimum.wallClockStepped(now, this.#wallOffsetMs);
        return;
      case 'credential-function-hang':
        // Like a queued fault, it is there from now: the manager's next token request will hang.
        if (this.#clients.credentials.hangNextAssertion()) this.#tally.hangStarted(assertionFunctionManager);
        return;
      case 'secret-file-rotation':
        await writeTokenFile(this.#clients.credentials.secretFile, episode.secret);
        await this.#server.addClient({ clientId: 'soak-secret-file', clientSecret: episode.secret });
        this.#tally.secretRotated(secretFileManager);
        return;
    }
  }

  #progress(now: number): string {
    const { calls, failedCalls, tokenRequests } = this.#tally;
    const { faultAnswers } = this.#tally.minimum;
    const faults = [...this.#tally.faults.values()].reduce((a, b) => a + b, 0);
    const day = Math.round((now - startMs) / dayMs);
    return `day ${day}: ${calls} calls (${failedCalls} failed), ${tokenRequests} token requests (${faultAnswers} faulted), ${faults} faults`;
  }
}
