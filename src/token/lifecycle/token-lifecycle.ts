import type { Span } from '@opentelemetry/api';
import type { Clock } from '../../common/clock.js';
import type { TokenError } from '../errors.js';
import type {
  Emit,
  FatalFailureEvent,
  RefreshFailedEvent,
  SharedCacheFailedEvent,
  TokenIssuedEvent,
  TokenManagerEvents,
} from '../events.js';
import type { SourcedToken } from '../token-source.js';
import { debugEnabled, debugLine, describeScopes } from './debug-log.js';
import { openTelemetryApi } from './opentelemetry-api.js';
import { Telemetry } from './telemetry.js';
import { monotonicNow } from '../../common/clock.js';

/** What a TokenManager tells its lifecycle observer about. */
export interface LifecycleParts {
  /** The token endpoint as safe to print (the issuer until discovery found the endpoint). */
  readonly endpoint: () => string;
  readonly clock: Clock;
  /** Aborted by the manager's `close()`. */
  readonly closeSignal: AbortSignal;
}

/** The outcome of one token request, reported by whoever sent it. */
export interface RequestObserver {
  answered(token: SourcedToken): void;
  failed(error: TokenError): void;
}

/**
 * A TokenManager's lifecycle as debug lines (`NODE_DEBUG=grpc-oauth2`) and OpenTelemetry metrics
 * and spans, one place for both so the refresher and the manager report each step once. Built only
 * when one of the two is on ({@link TokenLifecycle.create} returns `undefined` otherwise), so a
 * manager without either pays one `undefined` check per token request and per waiting caller; a
 * cache hit never reaches here.
 *
 * Every line and attribute carries names, scopes, durations and `TokenError` codes and messages
 * (which never hold a secret), never a token or secret.
 */
export class TokenLifecycle {
  readonly #parts: LifecycleParts;
  readonly #debug: boolean;
  readonly #telemetry: Telemetry | undefined;
  /** Numbers the requests of this manager, so a debug reader can pair "sent" with its outcome. */
  #requestCount = 0;

  private constructor(parts: LifecycleParts, debug: boolean, telemetry: Telemetry | undefined) {
    this.#parts = parts;
    this.#debug = debug;
    this.#telemetry = telemetry;
    parts.closeSignal.addEventListener(
      'abort',
      () => {
        telemetry?.close();
        if (debug) debugLine(`TokenManager for ${parts.endpoint()} closed`);
      },
      { once: true },
    );
  }

  /** The observer for a new manager, or `undefined` when neither debug output nor OpenTelemetry is present. */
  static create(parts: LifecycleParts): TokenLifecycle | undefined {
    const debug = debugEnabled();
    const api = openTelemetryApi();
    if (!debug && api === undefined) return undefined;
    return new TokenLifecycle(parts, debug, api === undefined ? undefined : new Telemetry(api, parts.clock));
  }

  /** `emit`, with each event also turned into a debug line and metrics first. */
  emitting(emit: Emit): Emit {
    return (event, payload) => {
      this.#event(event, payload);
      emit(event, payload);
    };
  }

  /** A token request for `scopes` goes out; the sender reports its outcome to what this returns. */
  requestSent(scopes: readonly string[]): RequestObserver {
    const n = ++this.#requestCount;
    const endpoint = this.#parts.endpoint();
    const span: Span | undefined = this.#telemetry?.requestSent(scopes, endpoint);
    if (this.#debug) debugLine(`token request ${n} sent to ${endpoint} for ${describeScopes(scopes)}`);
    return {
      answered: (token) => {
        if (span !== undefined) this.#telemetry?.requestAnswered(span);
        if (this.#debug)
          debugLine(
            `token request ${n} answered: a token valid for ${token?.expiresAt instanceof Date ? this.#secondsUntil(token.expiresAt) : '?'} s`,
          );
      },
      failed: (error) => {
        if (span !== undefined) this.#telemetry?.requestFailed(span, error);
        const status = error.status === undefined ? '' : ` (HTTP ${error.status})`;
        if (this.#debug) debugLine(`token request ${n} failed: ${error.code}${status}: ${error.message}`);
      },
    };
  }

  /** A refresh starts while the token of `scopes` is still served, `expiresInMs` before it expires. */
  backgroundRefreshStarted(scopes: readonly string[], expiresInMs: number): void {
    if (this.#debug)
      debugLine(
        `refresh started in the background for ${describeScopes(scopes)}: the token expires in ${Math.round(expiresInMs / 1000)} s`,
      );
  }

  /** A caller without a usable token for `scopes` waits for `waiting`, which is returned as is. */
  callerWaiting<T>(scopes: readonly string[], waiting: Promise<T>): Promise<T> {
    const startedAtMs = monotonicNow(this.#parts.clock);
    const done = (outcome: 'token' | 'error', how: string): void => {
      this.#telemetry?.callerWaited(outcome);
      if (this.#debug)
        debugLine(
          `a caller waited ${Math.round(monotonicNow(this.#parts.clock) - startedAtMs)} ms for a token for ${describeScopes(scopes)}: ${how}`,
        );
    };
    waiting.then(
      () => done('token', 'got one'),
      (error: unknown) => done('error', `gave up with ${(error as TokenError).code ?? 'an error'}`),
    );
    return waiting;
  }

  #event(event: keyof TokenManagerEvents, payload: TokenManagerEvents[keyof TokenManagerEvents][0]): void {
    if (event === 'tokenIssued') {
      const issued = payload as TokenIssuedEvent;
      this.#telemetry?.tokenIssued(issued.scopes, issued.expiresAt, issued.latencyMs, issued.callerWaited);
      if (!this.#debug) return;
      debugLine(
        `token issued for ${describeScopes(issued.scopes)}: valid ${Math.round(issued.lifetimeMs / 1000)} s; refresh scheduled at ` +
          `${issued.refreshAt.toISOString()} (in ${this.#secondsUntil(issued.refreshAt)} s); ${issued.latencyMs} ms after the first attempt` +
          (issued.callerWaited ? '' : ' (background)'),
      );
    } else if (!this.#debug) {
      return;
    } else if (event === 'refreshFailed') {
      const { scopes, attempt, error, nextDelayMs, servingTokenUntil } = payload as RefreshFailedEvent;
      const serving =
        servingTokenUntil === undefined
          ? 'no usable token cached'
          : `serving the cached token until ${servingTokenUntil.toISOString()}`;
      debugLine(
        `refresh failed for ${describeScopes(scopes)} (attempt ${attempt}): ${error.code}; next attempt in ${nextDelayMs} ms; ${serving}`,
      );
    } else if (event === 'fatalFailure') {
      const { scopes, error, nextDelayMs } = payload as FatalFailureEvent;
      debugLine(
        `fatal failure for ${describeScopes(scopes)}: ${error.code}; callers get this error for ${nextDelayMs} ms, then one request tries again`,
      );
    } else {
      const { operation, error } = payload as SharedCacheFailedEvent;
      debugLine(`shared cache ${operation} failed (${error.message}); fetched from the token endpoint without it`);
    }
  }

  #secondsUntil(date: Date): number {
    return Math.round((date.getTime() - this.#parts.clock.now()) / 1000);
  }
}
