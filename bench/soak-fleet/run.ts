// The fleet soak: `processes` member processes sharing a real redis-server for `durationMs` of real
// time, with the faults of the seeded schedule (schedule.ts) applied as they come due, and the
// figures of figures.ts computed from what the token server logged and the members reported.
//
// The schedule is the seed's alone; the fleet runs on real time, so what happens between faults
// (which process refreshes first, which request a fault hits) differs from run to run.
import { randomBytes } from 'node:crypto';
import { MockTokenServer } from '../../src/testing/index.js';
import { Chaos } from './chaos.js';
import {
  callFigures,
  matchReports,
  requestFigures,
  type CallFigures,
  type FleetSettings,
  type RequestFigures,
} from './figures.js';
import { Fleet } from './fleet.js';
import type { MemberConfig } from './protocol.js';
import type { FleetRecord, RequestRecord } from './record.js';
import { SoakRedisServer } from './redis-server.js';
import { faultSchedule } from './schedule.js';

export interface FleetSoakOptions {
  readonly seed: number;
  readonly durationMs: number;
  /** Long-lived member processes (one-shot ones come on top). */
  readonly processes: number;
  /** SIGKILL members (some mid-request); without, every other fault still happens. */
  readonly kills: boolean;
}

/** The members' settings: short tokens, so that a few minutes hold many refresh cycles. */
export const fleetSettings: FleetSettings = {
  tokenLifetimeMs: 24_000,
  refreshBeforeExpiryMs: 8_000,
  requestTimeoutMs: 3_000,
  maxWaitMs: 5_000,
  retryMaxTimeoutMs: 2_000,
  // The Redis cache's default.
  commandTimeoutMs: 200,
};
const scopeSets = ['orders.read', 'inventory.read'];
const clientId = 'soak-fleet';
const clientSecret = randomBytes(24).toString('base64url');
/** A caller's wait may pass maxWaitMs by the lateness of the timer that ends it, on a loaded machine. */
export const timerSlackMs = 100;

export interface FleetSoakFigures {
  readonly options: FleetSoakOptions;
  readonly settings: FleetSettings;
  readonly faults: {
    readonly kills: number;
    /** Kills of a process with a token request in flight (mid-fetch ones, and random ones that happened to be). */
    readonly killsMidRequest: number;
    readonly oneShots: number;
    readonly oneShotsServed: number;
    readonly replacements: number;
    readonly redisRestarts: number;
    readonly redisPauses: number;
    readonly redisSleeps: number;
    readonly tokenServerWindows: Readonly<Record<string, number>>;
  };
  readonly requests: RequestFigures;
  /** Counted token requests per refresh cycle, whatever sent them. */
  readonly requestsPerCycle: number;
  /**
   * Refresh cycles plus the extra requests that Redis and token-server faults do not explain (kills
   * and unexplained ones), per cycle: the figure held to ≤ 1.2 with kills, 1 without.
   */
  readonly requestsPerCycleBeyondFaults: number;
  readonly calls: CallFigures;
  readonly cacheFailures: Readonly<Record<string, number>>;
  /** Member processes that exited on their own with an error (a crash of the host process). */
  readonly crashed: number;
  readonly goals: readonly { readonly figure: string; readonly goal: string; readonly met: boolean }[];
  readonly met: boolean;
  /** What happened when, in ms since the start: to see what the figures were made of. */
  readonly timeline: {
    readonly requests: readonly {
      readonly scope: string;
      readonly atMs: number;
      readonly status: number | null;
      /** Who sent it, as its sender reported: a background refresh, a process whose callers waited, or unknown (killed). */
      readonly sender: 'background' | 'callers' | null;
    }[];
    readonly kills: readonly {
      readonly atMs: number;
      readonly midFetch: boolean;
      readonly inFlight: readonly string[];
    }[];
    readonly tokenServer: readonly { readonly fault: string; readonly startMs: number; readonly endMs: number }[];
    readonly redis: readonly { readonly kind: string; readonly startMs: number; readonly endMs: number }[];
  };
}

/** Runs the fleet soak; every process it starts is stopped by PID before it resolves or rejects. */
export async function runFleetSoak(options: FleetSoakOptions): Promise<FleetSoakFigures> {
  const schedule = faultSchedule(options.seed, options.durationMs, options.kills);
  const redis = await SoakRedisServer.start();
  const stopRedisOnExit = () => (redis.pid === undefined ? undefined : process.kill(redis.pid, 'SIGKILL'));
  process.once('exit', stopRedisOnExit);
  let server: MockTokenServer | undefined;
  let fleet: Fleet | undefined;
  try {
    server = await MockTokenServer.start({ tokenLifetimeSec: fleetSettings.tokenLifetimeMs / 1000 });
    server.addClient({ clientId, clientSecret, allowedScopes: scopeSets });
    const encryptionKey = randomBytes(32).toString('base64');
    const tokenEndpoint = server.tokenEndpoint;
    fleet = new Fleet((id, oneShot): MemberConfig => ({
      id,
      tokenEndpoint,
      clientId,
      clientSecret,
      redisPort: redis.port,
      library: id % 2 === 0 ? 'redis' : 'ioredis',
      encryptionKey,
      scopeSets,
      requestTimeoutMs: fleetSettings.requestTimeoutMs,
      maxWaitMs: fleetSettings.maxWaitMs,
      refreshBeforeExpiryMs: fleetSettings.refreshBeforeExpiryMs,
      retryMaxTimeoutMs: fleetSettings.retryMaxTimeoutMs,
      callGapMs: [100, 400],
      oneShot,
      seed: options.seed * 1_000 + id,
    }));
    const chaos = new Chaos(fleet, server, redis);
    const initial = await Promise.all(Array.from({ length: options.processes }, () => (fleet as Fleet).spawn(false)));
    const startedAt = Date.now();
    for (const id of initial) fleet.go(id);
    await chaos.run(schedule, startedAt, options.durationMs);
    const endedAt = Date.now();
    await fleet.stop(fleetSettings.maxWaitMs + 10_000);
    const tokenPath = new URL(tokenEndpoint).pathname;
    const record: FleetRecord = {
      startedAt,
      endedAt,
      calls: fleet.log.calls,
      requestReports: fleet.log.requestReports,
      requests: server.requests
        .filter((entry) => entry.path === tokenPath)
        .map((entry) => ({ scope: entry.scope ?? '', at: entry.time.getTime(), status: entry.status })),
      tokenServerWindows: chaos.tokenServerWindows,
      redisOutages: chaos.redisOutages,
      kills: fleet.log.kills,
      cacheFailures: fleet.log.cacheFailures,
      processes: {
        initial: options.processes,
        replacements: fleet.log.replacements,
        oneShots: fleet.log.oneShots,
        oneShotsServed: fleet.log.oneShotsServed,
        crashed: fleet.log.crashed,
      },
    };
    return figuresOf(options, record, fleet, chaos);
  } finally {
    await fleet?.stop(1_000);
    await server?.close();
    await redis.stop();
    process.off('exit', stopRedisOnExit);
  }
}

function figuresOf(options: FleetSoakOptions, record: FleetRecord, fleet: Fleet, chaos: Chaos): FleetSoakFigures {
  const requests = requestFigures(record, fleetSettings);
  const calls = callFigures(record, fleetSettings);
  const cycles = Math.max(1, requests.refreshCycles);
  const unexcused = requests.extras.filter((extra) => extra.cause === 'kill' || extra.cause === 'unexplained').length;
  const requestsPerCycleBeyondFaults = (requests.refreshCycles + unexcused) / cycles;
  const windows: Record<string, number> = {};
  for (const window of chaos.tokenServerWindows) windows[window.fault] = (windows[window.fault] ?? 0) + 1;
  const waitLimitMs = fleetSettings.maxWaitMs + timerSlackMs;
  const goals = [
    options.kills
      ? {
          figure: 'token requests per refresh cycle, beyond Redis and token-server faults',
          goal: '≤ 1.2',
          met: requestsPerCycleBeyondFaults <= 1.2,
        }
      : {
          figure: 'token requests per refresh cycle, beyond Redis and token-server faults',
          goal: '1',
          met: requestsPerCycleBeyondFaults === 1,
        },
    {
      figure: 'failed getToken() calls while a valid token could have been held',
      goal: '0',
      met: calls.failedWhileValidPossible === 0,
    },
    {
      figure: 'longest wait of a getToken() call',
      goal: `≤ maxWaitMs (${fleetSettings.maxWaitMs} ms, + ${timerSlackMs} ms timer slack)`,
      met: calls.longestWaitMs <= waitLimitMs,
    },
    { figure: 'member processes crashed', goal: '0', met: record.processes.crashed === 0 },
  ];
  return {
    options,
    settings: fleetSettings,
    faults: {
      kills: fleet.log.kills.length,
      killsMidRequest: fleet.log.kills.filter((kill) => kill.requestsInFlight.length > 0).length,
      oneShots: record.processes.oneShots,
      oneShotsServed: record.processes.oneShotsServed,
      replacements: record.processes.replacements,
      redisRestarts: chaos.redisOutages.filter((outage) => outage.kind === 'restart').length,
      redisPauses: chaos.redisOutages.filter((outage) => outage.kind === 'pause').length,
      redisSleeps: chaos.redisOutages.filter((outage) => outage.kind === 'sleep').length,
      tokenServerWindows: windows,
    },
    requests,
    requestsPerCycle: requests.counted / cycles,
    requestsPerCycleBeyondFaults,
    calls,
    cacheFailures: record.cacheFailures,
    crashed: record.processes.crashed,
    goals,
    met: goals.every((goal) => goal.met),
    timeline: timelineOf(record),
  };
}

function timelineOf(record: FleetRecord): FleetSoakFigures['timeline'] {
  const ms = (at: number) => at - record.startedAt;
  const senders = matchReports(record.requests, record.requestReports);
  const sender = (request: RequestRecord) => {
    const report = senders.get(request);
    return report === undefined ? null : report.background ? 'background' : 'callers';
  };
  return {
    requests: record.requests.map((r) => ({
      scope: r.scope,
      atMs: ms(r.at),
      status: r.status ?? null,
      sender: sender(r),
    })),
    kills: record.kills.map((k) => ({
      atMs: ms(k.at),
      midFetch: k.midFetch,
      inFlight: k.requestsInFlight.map((r) => `${r.scope} since ${ms(r.since)}`),
    })),
    tokenServer: record.tokenServerWindows.map((w) => ({ fault: w.fault, startMs: ms(w.start), endMs: ms(w.end) })),
    redis: record.redisOutages.map((o) => ({ kind: o.kind, startMs: ms(o.start), endMs: ms(o.end) })),
  };
}
