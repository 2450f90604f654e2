// The fleet soak's chaos: the scheduled faults applied as they come due (kills, one-shot processes,
// Redis restarts, pauses and sleeps, token-server fault windows), and when each really held.
import { setTimeout as sleep } from 'node:timers/promises';
import type { MockTokenServer, TokenServerFault } from '../../src/testing/index.js';
import type { RedisOutage, TokenServerWindow } from './record.js';
import type { Fleet } from './fleet.js';
import type { SoakRedisServer } from './redis-server.js';
import type { ScheduledFault, TokenServerFaultKind } from './schedule.js';

/** How late a mid-fetch kill's token request is answered: the time it has to land. */
const midFetchDelayMs = 1_500;
/** How long after a mid-fetch kill the slow answer stays queued, for the killed request to take it. */
const slowAnswerKeptMs = 250;

/** The mock token server's answer for each kind of window. */
function tokenServerFault(kind: TokenServerFaultKind, delayMs: number): TokenServerFault {
  switch (kind) {
    case '503':
      return { type: 'error', status: 503 };
    case '503-retry-after':
      return { type: 'error', status: 503, retryAfter: 1 };
    case '429-retry-after':
      return { type: 'error', status: 429, retryAfter: 1 };
    case 'reset':
      return { type: 'reset' };
    case 'hang':
      return { type: 'hang' };
    case 'slow':
      return { type: 'delay', ms: delayMs };
  }
}

/** Applies the schedule's faults as they come due, and records when each really held. */
export class Chaos {
  readonly tokenServerWindows: TokenServerWindow[] = [];
  readonly redisOutages: RedisOutage[] = [];
  readonly #fleet: Fleet;
  readonly #server: MockTokenServer;
  readonly #redis: SoakRedisServer;
  #window: TokenServerFault | undefined;
  /** A mid-fetch kill waiting for the next token request, with the delay before its replacement. */
  #armedKill: { readonly respawnAfterMs: number } | undefined;
  /** The Redis fault in progress: another one due meanwhile is skipped. */
  #redisBusy: Promise<void> | undefined;
  readonly #background = new Set<Promise<unknown>>();
  #ended = false;
  /** What broke the soak itself (Redis would not start again): thrown at the end of the run. */
  #failure: Error | undefined;

  constructor(fleet: Fleet, server: MockTokenServer, redis: SoakRedisServer) {
    this.#fleet = fleet;
    this.#server = server;
    this.#redis = redis;
    fleet.onRequestStarted = (member) => {
      const armed = this.#armedKill;
      if (armed === undefined) return;
      this.#armedKill = undefined;
      this.#kill(member, true, armed.respawnAfterMs);
      // The slow answer is for the request just killed, which reaches the token server a moment after
      // its sender reported it: it is dropped only then, in case it is still queued.
      void this.#track(sleep(slowAnswerKeptMs).then(() => this.#applyTokenServerFaults()));
    };
  }

  /** Applies `schedule` from `startedAt` for `durationMs`, then undoes what is still in effect. */
  async run(schedule: readonly ScheduledFault[], startedAt: number, durationMs: number): Promise<void> {
    const timers = schedule.map((fault) =>
      setTimeout(() => this.#apply(fault), Math.max(0, startedAt + fault.atMs - Date.now())),
    );
    await sleep(Math.max(0, startedAt + durationMs - Date.now()));
    this.#ended = true;
    for (const timer of timers) clearTimeout(timer);
    this.#armedKill = undefined;
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
    this.#window = undefined;
    this.#applyTokenServerFaults();
    if (this.#failure !== undefined) throw this.#failure;
  }

  #apply(fault: ScheduledFault): void {
    switch (fault.kind) {
      case 'kill':
        if (fault.midFetch) {
          this.#armedKill = { respawnAfterMs: fault.respawnAfterMs };
          this.#applyTokenServerFaults();
        } else {
          const alive = this.#fleet.longLived;
          const victim = alive[Math.floor(fault.victim * alive.length)];
          if (victim !== undefined) this.#kill(victim, false, fault.respawnAfterMs);
        }
        return;
      case 'one-shot':
        void this.#fleet.spawn(true);
        return;
      case 'token-server':
        return this.#tokenServerWindow(fault.fault, fault.ms, fault.delayMs);
      case 'redis-restart':
      case 'redis-pause':
      case 'redis-sleep':
        if (this.#redisBusy !== undefined) return;
        this.#redisBusy = this.#track(this.#redisFault(fault))
          .catch((error: unknown) => {
            this.#failure ??= error instanceof Error ? error : new Error(String(error));
          })
          .finally(() => (this.#redisBusy = undefined));
        return;
    }
  }

  #kill(member: number, midFetch: boolean, respawnAfterMs: number): void {
    const replace = this.#fleet.isLongLived(member);
    this.#fleet.kill(member, midFetch);
    if (!replace) return;
    const respawn = sleep(respawnAfterMs).then(async () => {
      if (this.#ended) return;
      this.#fleet.log.replacements++;
      const id = await this.#fleet.spawn(false);
      if (!this.#ended) this.#fleet.go(id);
    });
    void this.#track(respawn);
  }

  #tokenServerWindow(kind: TokenServerFaultKind, ms: number, delayMs: number): void {
    const start = Date.now();
    this.#window = tokenServerFault(kind, delayMs);
    this.#applyTokenServerFaults();
    const end = sleep(ms).then(() => {
      this.#window = undefined;
      this.#applyTokenServerFaults();
      this.tokenServerWindows.push({ fault: kind, start, end: Date.now(), delayMs });
    });
    void this.#track(end);
  }

  /** The faults queued in the token server: the window's for every request, or one slow answer for an armed kill. */
  #applyTokenServerFaults(): void {
    this.#server.clearFaults();
    if (this.#window !== undefined) this.#server.failNext(10_000, this.#window);
    else if (this.#armedKill !== undefined) this.#server.failNext(1, { type: 'delay', ms: midFetchDelayMs });
  }

  async #redisFault(fault: Extract<ScheduledFault, { kind: `redis-${string}` }>): Promise<void> {
    const start = Date.now();
    switch (fault.kind) {
      case 'redis-restart':
        await this.#redis.kill();
        await sleep(fault.downMs);
        await this.#redis.restart();
        this.redisOutages.push({ kind: 'restart', start, end: Date.now() });
        return;
      case 'redis-pause':
        await this.#redis.pause(fault.ms);
        await sleep(fault.ms);
        this.redisOutages.push({ kind: 'pause', start, end: start + fault.ms });
        return;
      case 'redis-sleep':
        await this.#redis.sleep(fault.ms).catch(() => undefined);
        this.redisOutages.push({ kind: 'sleep', start, end: Date.now() });
        return;
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#background.add(promise);
    void promise.finally(() => this.#background.delete(promise)).catch(() => undefined);
    return promise;
  }
}
