import type {
  Counter,
  Histogram,
  MetricOptions,
  ObservableGauge,
  ObservableResult,
  Span,
  Tracer,
} from '@opentelemetry/api';
import type { Clock } from '../../common/clock.js';
import type { TokenError } from '../errors.js';
import type { OpenTelemetry } from './opentelemetry-api.js';

/** The meter and tracer name: this package's. */
const instrumentationScope = 'grpc-oauth2-credentials';

/**
 * The names of the instruments (docs/troubleshooting.md lists them for dashboards). Durations are in
 * seconds, as OpenTelemetry's semantic conventions ask.
 *
 * - `tokenRequests`: counter of token requests sent (every attempt).
 * - `tokenFailures`: counter of failed token requests, by `error.type` (the `TokenError` code).
 * - `callersWaited`: counter of `getToken()` callers that had no usable token and waited, by
 *   `oauth2.outcome` (`token` or `error`).
 * - `refreshDuration`: histogram of the time from a refresh's first attempt to its token, retries
 *   included, by `oauth2.caller_waited`.
 * - `timeToExpiry`: gauge of the seconds left on each scope set's latest token (`oauth2.scopes`),
 *   0 once expired.
 * - `tokenRequestSpan`: the span around each token request (kind CLIENT; `oauth2.scopes`,
 *   `server.address`; on failure status ERROR and `error.type`).
 */
const telemetryNames = {
  tokenRequests: 'oauth2.token.requests',
  tokenFailures: 'oauth2.token.failures',
  callersWaited: 'oauth2.token.callers_waited',
  refreshDuration: 'oauth2.token.refresh.duration',
  timeToExpiry: 'oauth2.token.time_to_expiry',
  tokenRequestSpan: 'oauth2.token_request',
} as const;

/** What each instrument says of itself. */
const instrumentOptions = {
  tokenRequests: { description: 'OAuth2 token requests sent', unit: '{request}' },
  tokenFailures: { description: 'OAuth2 token requests that failed', unit: '{request}' },
  callersWaited: { description: 'getToken() callers that waited for the network', unit: '{call}' },
  refreshDuration: { description: 'Time to get a token, retries included', unit: 's' },
  timeToExpiry: { description: 'Time left on the latest token', unit: 's' },
} as const satisfies Partial<Record<keyof typeof telemetryNames, MetricOptions>>;

/**
 * One TokenManager's metrics and spans through the OpenTelemetry API: no-ops until the application
 * registers an SDK. Instruments are made when the manager is (the API's meters do not follow a
 * provider registered later), so register the SDK before creating managers.
 */
export class Telemetry {
  readonly #api: OpenTelemetry;
  readonly #tracer: Tracer;
  readonly #requests: Counter;
  readonly #failures: Counter;
  readonly #waits: Counter;
  readonly #refreshDuration: Histogram;
  readonly #timeToExpiry: ObservableGauge;
  readonly #observe: (result: ObservableResult) => void;
  /** Expiry (wall clock, ms) of the latest token per scope set. */
  readonly #expiries = new Map<string, number>();

  constructor(api: OpenTelemetry, clock: Clock) {
    this.#api = api;
    const meter = api.metrics.getMeter(instrumentationScope);
    this.#tracer = api.trace.getTracer(instrumentationScope);
    this.#requests = meter.createCounter(telemetryNames.tokenRequests, instrumentOptions.tokenRequests);
    this.#failures = meter.createCounter(telemetryNames.tokenFailures, instrumentOptions.tokenFailures);
    this.#waits = meter.createCounter(telemetryNames.callersWaited, instrumentOptions.callersWaited);
    this.#refreshDuration = meter.createHistogram(telemetryNames.refreshDuration, instrumentOptions.refreshDuration);
    this.#timeToExpiry = meter.createObservableGauge(telemetryNames.timeToExpiry, instrumentOptions.timeToExpiry);
    // The meter keeps the callback until close(); through a WeakRef (and no `this` in the closure) it
    // does not keep this object and its map alive for a manager dropped without close().
    const gauge = this.#timeToExpiry;
    const self = new WeakRef(this);
    const observe = (result: ObservableResult): void => {
      const telemetry = self.deref();
      if (telemetry === undefined) return gauge.removeCallback(observe);
      const now = clock.now();
      for (const [scopes, expiresAtMs] of telemetry.#expiries)
        result.observe(Math.max(0, (expiresAtMs - now) / 1000), { 'oauth2.scopes': scopes });
    };
    this.#observe = observe;
    gauge.addCallback(observe);
  }

  /** A token request goes out: counts it and starts its span. */
  requestSent(scopes: readonly string[], endpoint: string): Span {
    this.#requests.add(1);
    return this.#tracer.startSpan(telemetryNames.tokenRequestSpan, {
      kind: this.#api.SpanKind.CLIENT,
      attributes: { 'oauth2.scopes': scopes.join(' '), 'server.address': endpoint },
    });
  }

  /** A token request was answered with a token: ends its span. */
  requestAnswered(span: Span): void {
    span.end();
  }

  /** A token request failed: counts it by code and ends its span as an error. */
  requestFailed(span: Span, error: TokenError): void {
    this.#failures.add(1, { 'error.type': error.code });
    span.setAttribute('error.type', error.code);
    span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: error.message });
    span.end();
  }

  /** A token was stored: its refresh latency, and its expiry for the gauge. */
  tokenIssued(scopes: readonly string[], expiresAt: Date, latencyMs: number, callerWaited: boolean): void {
    this.#refreshDuration.record(latencyMs / 1000, { 'oauth2.caller_waited': callerWaited });
    this.#expiries.set(scopes.join(' '), expiresAt.getTime());
  }

  /** A caller that had no usable token stopped waiting, with a token or an error. */
  callerWaited(outcome: 'token' | 'error'): void {
    this.#waits.add(1, { 'oauth2.outcome': outcome });
  }

  /** The manager closed: its gauge stops reporting. */
  close(): void {
    this.#timeToExpiry.removeCallback(this.#observe);
    this.#expiries.clear();
  }
}
