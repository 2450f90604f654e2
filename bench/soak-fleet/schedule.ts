// The fleet soak's fault schedule: what happens when, drawn from the seed alone. The same seed gives
// the same schedule; what the fleet does in between runs on real time and cannot be replayed exactly.
import { between, pick, substream, type Random } from './random.js';

/** How the token server misbehaves during a window. */
export type TokenServerFaultKind = '503' | '503-retry-after' | '429-retry-after' | 'reset' | 'hang' | 'slow';

export type ScheduledFault =
  /**
   * A SIGKILL. `victim` (in [0, 1)) picks among the processes alive at that moment. `midFetch`: the
   * kill waits for the next token request of any process, slowed down by the token server, and kills
   * its sender while the request is in flight.
   */
  | {
      readonly kind: 'kill';
      readonly atMs: number;
      readonly victim: number;
      readonly midFetch: boolean;
      readonly respawnAfterMs: number;
    }
  /** A process that gets a token for each scope set and exits at once (close(), then its Redis client destroyed). */
  | { readonly kind: 'one-shot'; readonly atMs: number }
  /** redis-server SIGKILLed and started again on the same port `downMs` later, empty (no persistence). */
  | { readonly kind: 'redis-restart'; readonly atMs: number; readonly downMs: number }
  /** `CLIENT PAUSE <ms> ALL`: Redis holds every client's commands for `ms`. */
  | { readonly kind: 'redis-pause'; readonly atMs: number; readonly ms: number }
  /** `DEBUG SLEEP`: Redis blocks entirely for `ms`. */
  | { readonly kind: 'redis-sleep'; readonly atMs: number; readonly ms: number }
  /** Every token request arriving in [atMs, atMs + ms) gets `fault` (`slow`: answered `delayMs` late). */
  | {
      readonly kind: 'token-server';
      readonly atMs: number;
      readonly ms: number;
      readonly fault: TokenServerFaultKind;
      readonly delayMs: number;
    };

/** Milliseconds between two faults of a kind (drawn uniformly), and the kind's own ranges. */
export const scheduleRates = {
  killGapMs: [10_000, 25_000],
  /** The share of kills that wait for a token request and kill its sender mid-request. */
  midFetchShare: 0.3,
  respawnAfterMs: [300, 3_000],
  oneShotGapMs: [4_000, 12_000],
  redisRestartGapMs: [40_000, 80_000],
  redisDownMs: [200, 2_000],
  redisPauseGapMs: [30_000, 60_000],
  redisPauseMs: [300, 2_000],
  redisSleepGapMs: [30_000, 60_000],
  redisSleepMs: [300, 1_500],
  tokenServerGapMs: [15_000, 40_000],
  tokenServerFaultMs: [500, 4_000],
  slowAnswerMs: [500, 2_500],
} as const satisfies Record<string, number | readonly [number, number]>;

const tokenServerFaults: readonly TokenServerFaultKind[] = [
  '503',
  '503-retry-after',
  '429-retry-after',
  'reset',
  'hang',
  'slow',
];

/** The faults of a run of `durationMs`, in time order. Without `kills`, no process is killed (the rest is the same). */
export function faultSchedule(seed: number, durationMs: number, kills: boolean): ScheduledFault[] {
  const faults: ScheduledFault[] = [];
  // Each kind draws from its own stream, so that turning kills off leaves every other fault in place.
  const every = (
    purpose: number,
    gap: readonly [number, number],
    make: (atMs: number, random: Random) => ScheduledFault,
  ) => {
    const random = substream(seed, purpose);
    for (let atMs = between(random, gap[0], gap[1]); atMs < durationMs; atMs += between(random, gap[0], gap[1])) {
      faults.push(make(Math.round(atMs), random));
    }
  };
  const r = scheduleRates;
  const range = (random: Random, [min, max]: readonly [number, number]) => Math.round(between(random, min, max));
  if (kills) {
    every(1, r.killGapMs, (atMs, random) => ({
      kind: 'kill',
      atMs,
      victim: random(),
      midFetch: random() < r.midFetchShare,
      respawnAfterMs: range(random, r.respawnAfterMs),
    }));
  }
  every(2, r.oneShotGapMs, (atMs) => ({ kind: 'one-shot', atMs }));
  every(3, r.redisRestartGapMs, (atMs, random) => ({
    kind: 'redis-restart',
    atMs,
    downMs: range(random, r.redisDownMs),
  }));
  every(4, r.redisPauseGapMs, (atMs, random) => ({ kind: 'redis-pause', atMs, ms: range(random, r.redisPauseMs) }));
  every(5, r.redisSleepGapMs, (atMs, random) => ({ kind: 'redis-sleep', atMs, ms: range(random, r.redisSleepMs) }));
  every(6, r.tokenServerGapMs, (atMs, random) => ({
    kind: 'token-server',
    atMs,
    ms: range(random, r.tokenServerFaultMs),
    fault: pick(random, tokenServerFaults),
    delayMs: range(random, r.slowAnswerMs),
  }));
  return faults.sort((a, b) => a.atMs - b.atMs);
}
