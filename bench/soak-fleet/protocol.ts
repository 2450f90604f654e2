// What the fleet soak's parent and its member processes tell each other over IPC. Tokens never
// cross: members report outcomes, times and error codes only.
import type { FleetProcessConfig } from '../../test/redis/fixtures/fleet-process.js';

/**
 * The one argument of a member process, as JSON: what a process of the fleet tests gets
 * (test/redis/fixtures/fleet-process.ts), and the soak's own settings.
 */
export interface MemberConfig extends Pick<
  FleetProcessConfig,
  'tokenEndpoint' | 'clientId' | 'clientSecret' | 'redisPort' | 'library' | 'encryptionKey' | 'requestTimeoutMs'
> {
  readonly id: number;
  /** One TokenManager per scope set, so that each manager's counters tell its scope set's requests apart. */
  readonly scopeSets: readonly string[];
  readonly maxWaitMs: number;
  readonly refreshBeforeExpiryMs: number;
  readonly retryMaxTimeoutMs: number;
  /** Milliseconds between two getToken() calls of the member, drawn uniformly. */
  readonly callGapMs: readonly [number, number];
  /** Get one token per scope set, then exit at once (close(), Redis client destroyed). */
  readonly oneShot: boolean;
  readonly seed: number;
}

/** From the parent: start calling (long-lived members), or stop, report and exit. */
export type ParentMessage = 'go' | 'stop';

export type MemberMessage =
  | { readonly type: 'ready' }
  /** One getToken() call. `startedAt`: wall-clock ms; `cachedAtStart`: a usable token was cached for its scope set. */
  | {
      readonly type: 'call';
      readonly scope: string;
      readonly startedAt: number;
      readonly waitMs: number;
      readonly ok: boolean;
      readonly code?: string;
      readonly cachedAtStart: boolean;
    }
  /**
   * A token request of this member's manager for `scope` went out; `background`: while a usable
   * token was cached (a background refresh), else callers wait for it.
   */
  | { readonly type: 'requestStarted'; readonly scope: string; readonly at: number; readonly background: boolean }
  /** That request ended: answered, failed, or its token written to Redis and handed out. */
  | { readonly type: 'requestEnded'; readonly scope: string; readonly at: number }
  | { readonly type: 'cacheFailed'; readonly operation: string; readonly code: string; readonly at: number }
  /** Before a clean exit: the managers' counters, summed. */
  | { readonly type: 'done'; readonly tokenRequests: number; readonly sharedCacheHits: number };
