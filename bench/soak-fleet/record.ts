// What a fleet soak run records: the members' reports, the token server's log and the faults as they
// held. Times are wall-clock ms (the parent, its members and the token server share one machine).
import type { TokenServerFaultKind } from './schedule.js';

/** One getToken() call of a member, as it reported it. Times are wall-clock ms. */
export interface CallRecord {
  readonly scope: string;
  readonly startedAt: number;
  readonly waitMs: number;
  readonly ok: boolean;
  readonly code: string | undefined;
  /** A usable (unexpired) token was cached in that process for that scope set when the call started. */
  readonly cachedAtStart: boolean;
}

/** One request to the token endpoint, from the token server's own log. */
export interface RequestRecord {
  readonly scope: string;
  readonly at: number;
  /** The HTTP status it was answered with; undefined when no answer went out (hang, reset, its client gone). */
  readonly status: number | undefined;
}

/** A token request as its sender reported it, when it went out. */
export interface RequestReport {
  readonly scope: string;
  readonly at: number;
  /** A usable token was cached meanwhile (a background refresh); else callers waited for it. */
  readonly background: boolean;
}

/** A span during which the token server misbehaved, as it was applied. */
export interface TokenServerWindow {
  readonly fault: TokenServerFaultKind;
  readonly start: number;
  readonly end: number;
  /** For `slow`: how late each answer came. */
  readonly delayMs: number;
}

/** A span during which Redis did not answer: from the fault until it answered the parent again. */
export interface RedisOutage {
  readonly kind: 'restart' | 'pause' | 'sleep';
  readonly start: number;
  readonly end: number;
}

/** A SIGKILL of a member, with the token requests it had in flight (scope, since when). */
export interface KillRecord {
  readonly at: number;
  readonly midFetch: boolean;
  readonly requestsInFlight: readonly { readonly scope: string; readonly since: number }[];
}

export interface FleetRecord {
  /** Wall-clock ms when the schedule's time 0 was, and when the last fault could happen. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly calls: readonly CallRecord[];
  readonly requests: readonly RequestRecord[];
  readonly requestReports: readonly RequestReport[];
  readonly tokenServerWindows: readonly TokenServerWindow[];
  readonly redisOutages: readonly RedisOutage[];
  readonly kills: readonly KillRecord[];
  /** `sharedCacheFailed` events of every member, by `operation:code`. */
  readonly cacheFailures: Readonly<Record<string, number>>;
  readonly processes: {
    readonly initial: number;
    readonly replacements: number;
    readonly oneShots: number;
    /** One-shot processes that got a token for every scope set and exited with 0. */
    readonly oneShotsServed: number;
    /** Members that exited on their own with a non-zero code or a signal the soak did not send. */
    readonly crashed: number;
  };
}
