// The fleet soak's figures, computed from what a run recorded. Pure functions of the record, so that
// each definition can be read here in one place (docs/performance.md, "Fleet soak", says the same).
import type {
  FleetRecord,
  KillRecord,
  RedisOutage,
  RequestRecord,
  RequestReport,
  TokenServerWindow,
} from './record.js';
import type { TokenServerFaultKind } from './schedule.js';

/** The settings the figures depend on (the members' TokenManager and Redis cache options). */
export interface FleetSettings {
  readonly tokenLifetimeMs: number;
  readonly refreshBeforeExpiryMs: number;
  readonly requestTimeoutMs: number;
  readonly maxWaitMs: number;
  readonly retryMaxTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

/** Why a token request beyond the first of its refresh cycle was sent. */
export type ExtraCause = 'kill' | 'redis' | 'token-server' | 'unexplained';

export interface ExtraRequest {
  readonly scope: string;
  /** Milliseconds since the start of the run. */
  readonly atMs: number;
  readonly cause: ExtraCause;
}

export interface RequestFigures {
  /** Refresh cycles, summed over the scope sets (see {@link refreshCycleWindowMs}). */
  readonly refreshCycles: number;
  /** Every request the token server received. */
  readonly total: number;
  /** Requests answered with an injected fault (5xx, 429, reset, hang): the retries the faults force. */
  readonly refusedByFaults: number;
  /** The others: answered with a token, or left unanswered because their sender was killed. */
  readonly counted: number;
  readonly extras: readonly ExtraRequest[];
}

/**
 * How long after a refresh cycle's first token request a request of the same scope set still
 * belongs to that cycle. No process refreshes a token before `refreshBeforeExpiryMs` plus the 10%
 * spread ahead of its expiry, and the token's expiry comes at most 1 s early (its JWT `exp` is in
 * whole seconds); 0.5 s more covers the time from the request's arrival to its answer.
 */
export function refreshCycleWindowMs(settings: FleetSettings): number {
  return settings.tokenLifetimeMs - 1.1 * settings.refreshBeforeExpiryMs - 1_500;
}

/** The longest a process waits for another's lock before fetching itself (a quarter of maxWaitMs). */
function lockWaitMs(settings: FleetSettings): number {
  return Math.min(settings.maxWaitMs / 4, settings.requestTimeoutMs + 1_000);
}

/** How far a sender's report of a request may be from its arrival at the token server, in ms. */
const reportSlackMs = 300;

const overlaps = (start: number, end: number, from: number, to: number): boolean => start <= to && end >= from;

/** The end of a token-server window's effect: a hung request lasts `requestTimeoutMs`, a slow one `delayMs`. */
function effectEnd(window: TokenServerWindow, settings: FleetSettings): number {
  if (window.fault === 'hang') return window.end + settings.requestTimeoutMs;
  if (window.fault === 'slow') return window.end + window.delayMs;
  return window.end;
}

const refusingFaults: ReadonlySet<TokenServerFaultKind> = new Set([
  '503',
  '503-retry-after',
  '429-retry-after',
  'reset',
  'hang',
]);

/**
 * Token requests and refresh cycles, per scope set:
 * - A request is *refused by a fault* when it arrived during a window of a refusing fault and got
 *   no 200. The others are *counted*: the token server issued a token, or would have, had its
 *   sender not been killed first.
 * - Counted requests in time order make the *refresh cycles*: a request starts a new cycle unless
 *   it comes within {@link refreshCycleWindowMs} of the current cycle's first request.
 * - Each request of a cycle gets the first cause that explains it: `kill` (a process killed with a
 *   request of that scope set in flight, since the cycle began; each such kill explains one),
 *   `redis` (sent by a process whose callers waited, no token being cached, while Redis did not
 *   answer or shortly after, so that it failed open; or Redis restarted, empty, since the cycle
 *   began, so that its entry was lost: one per restart), `token-server` (a slow or failing token
 *   server shortly before, so that a process stopped waiting for the lock holder), or none. A
 *   background refresh waits a silent Redis out, so Redis being silent never excuses its requests.
 * - One request of each cycle is the one the cycle needs: the first without a cause (the first of
 *   all when each has one). The others are its *extra* requests; one without a cause is
 *   `unexplained`.
 */
export function requestFigures(record: FleetRecord, settings: FleetSettings): RequestFigures {
  const refused = (request: RequestRecord): boolean =>
    request.status !== 200 &&
    record.tokenServerWindows.some(
      (window) => refusingFaults.has(window.fault) && request.at >= window.start && request.at <= window.end,
    );
  const counted = record.requests.filter((request) => !refused(request));
  const windowMs = refreshCycleWindowMs(settings);
  const senders = matchReports(counted, record.requestReports);
  const extras: ExtraRequest[] = [];
  let refreshCycles = 0;
  for (const scope of new Set(counted.map((request) => request.scope))) {
    const cycles: RequestRecord[][] = [];
    for (const request of counted.filter((r) => r.scope === scope).sort((a, b) => a.at - b.at)) {
      const cycle = cycles.at(-1);
      if (cycle === undefined || request.at >= (cycle[0] as RequestRecord).at + windowMs) cycles.push([request]);
      else cycle.push(request);
    }
    refreshCycles += cycles.length;
    const causeOf = causes(record, settings, senders);
    for (const cycle of cycles) {
      const cycleStart = (cycle[0] as RequestRecord).at;
      const explained = cycle.map((request) => causeOf(request, cycleStart));
      const needed = Math.max(0, explained.indexOf(undefined));
      cycle.forEach((request, i) => {
        if (i !== needed)
          extras.push({ scope, atMs: request.at - record.startedAt, cause: explained[i] ?? 'unexplained' });
      });
    }
  }
  return {
    refreshCycles,
    total: record.requests.length,
    refusedByFaults: record.requests.length - counted.length,
    counted: counted.length,
    extras,
  };
}

/** The cause of one scope set's requests, in time order (kills and restarts explain one request each). */
function causes(
  record: FleetRecord,
  settings: FleetSettings,
  senders: ReadonlyMap<RequestRecord, RequestReport>,
): (request: RequestRecord, cycleStart: number) => Exclude<ExtraCause, 'unexplained'> | undefined {
  const redisLookbackMs = 2 * settings.commandTimeoutMs + 1_000;
  const redisReconnectMs = 1_000;
  const serverLookbackMs = lockWaitMs(settings) + settings.retryMaxTimeoutMs + 1_000;
  const usedKills = new Set<KillRecord>();
  const usedRestarts = new Set<RedisOutage>();
  return (request, cycleStart) => {
    const { scope, at: t } = request;
    const kill = record.kills.find(
      (k) =>
        !usedKills.has(k) &&
        k.at <= t &&
        k.requestsInFlight.some((inFlight) => inFlight.scope === scope && inFlight.since >= cycleStart - 100),
    );
    if (kill !== undefined) {
      usedKills.add(kill);
      return 'kill';
    }
    const failedOpen =
      senders.get(request)?.background === false &&
      record.redisOutages.some((o) => overlaps(o.start, o.end + redisReconnectMs, t - redisLookbackMs, t));
    if (failedOpen) return 'redis';
    const restart = record.redisOutages.find(
      (o) => o.kind === 'restart' && !usedRestarts.has(o) && o.start >= cycleStart && o.start <= t,
    );
    if (restart !== undefined) {
      usedRestarts.add(restart);
      return 'redis';
    }
    const serverFault = record.tokenServerWindows.some((w) =>
      overlaps(w.start, effectEnd(w, settings), t - serverLookbackMs, t),
    );
    return serverFault ? 'token-server' : undefined;
  };
}

/**
 * Each request's sender's report: the nearest in time, of the same scope set, within
 * {@link reportSlackMs}, each report used once (requests in time order). A request whose sender was
 * killed before it reported has none.
 */
export function matchReports(
  requests: readonly RequestRecord[],
  reports: readonly RequestReport[],
): Map<RequestRecord, RequestReport> {
  const unused = new Set(reports);
  const senders = new Map<RequestRecord, RequestReport>();
  for (const request of [...requests].sort((a, b) => a.at - b.at)) {
    let nearest: RequestReport | undefined;
    for (const report of unused) {
      const distance = Math.abs(report.at - request.at);
      if (report.scope === request.scope && distance <= reportSlackMs) {
        if (nearest === undefined || distance < Math.abs(nearest.at - request.at)) nearest = report;
      }
    }
    if (nearest !== undefined) {
      unused.delete(nearest);
      senders.set(request, nearest);
    }
  }
  return senders;
}

export interface CallFigures {
  readonly total: number;
  readonly failed: number;
  /**
   * Failed calls while a valid token could have been held: a usable token was cached in that
   * process when the call started, or the token server was healthy for a stretch of at least
   * {@link healthyStretchMs} inside the span from that long before the call until it ended (long
   * enough for a retry to have been sent and answered, whatever backoff the earlier failures left).
   */
  readonly failedWhileValidPossible: number;
  /** Of those, the ones whose process had a usable token cached. */
  readonly failedWithTokenCached: number;
  readonly longestWaitMs: number;
  /** Codes of the failed calls, by count. */
  readonly failureCodes: Readonly<Record<string, number>>;
}

/** The longest retry backoff of the members, plus a second for the request itself. */
export function healthyStretchMs(settings: FleetSettings): number {
  return settings.retryMaxTimeoutMs + 1_000;
}

export function callFigures(record: FleetRecord, settings: FleetSettings): CallFigures {
  const unhealthy = record.tokenServerWindows
    .filter((window) => refusingFaults.has(window.fault))
    .map((window) => ({ start: window.start, end: effectEnd(window, settings) }))
    .sort((a, b) => a.start - b.start);
  const stretchMs = healthyStretchMs(settings);
  /** The longest time in [from, to] with no refusing fault in effect. */
  const longestHealthy = (from: number, to: number): number => {
    let longest = 0;
    let healthySince = from;
    for (const span of unhealthy) {
      if (span.end < from || span.start > to) continue;
      longest = Math.max(longest, span.start - healthySince);
      healthySince = Math.max(healthySince, span.end);
    }
    return Math.max(longest, to - healthySince);
  };
  const failed = record.calls.filter((call) => !call.ok);
  const possible = failed.filter(
    (call) =>
      call.cachedAtStart || longestHealthy(call.startedAt - stretchMs, call.startedAt + call.waitMs) >= stretchMs,
  );
  const failureCodes: Record<string, number> = {};
  for (const call of failed) failureCodes[call.code ?? '?'] = (failureCodes[call.code ?? '?'] ?? 0) + 1;
  return {
    total: record.calls.length,
    failed: failed.length,
    failedWhileValidPossible: possible.length,
    failedWithTokenCached: failed.filter((call) => call.cachedAtStart).length,
    longestWaitMs: Math.max(0, ...record.calls.map((call) => call.waitMs)),
    failureCodes,
  };
}
