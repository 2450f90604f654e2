import { retryDelayMs, type ResolvedRetryOptions } from './backoff.js';
import { monotonicNow, sleep, type Clock } from '../../common/clock.js';
import type { TokenError } from '../errors.js';
import { SingleFlight } from '../../common/single-flight.js';

/** Most token requests in flight to one endpoint at a time. */
const maxConcurrentRequests = 8;

/**
 * The token endpoint's health, shared by every scope set of a manager. Each scope set backs off on
 * its own failures, but when the endpoint itself is failing (network errors, timeouts, 5xx, 429),
 * a thousand scope sets must not each find that out with requests of their own. So:
 * - after an endpoint failure, no request goes out until the endpoint's own backoff has passed;
 * - then one request probes it, and the others wait for that probe: they fail with its error, or go
 *   ahead once it succeeds;
 * - at most {@link maxConcurrentRequests} requests are in flight at once, so that many cold scope
 *   sets do not all hit a failing endpoint before the first failure is known.
 */
export class EndpointGate {
  readonly #clock: Clock;
  readonly #retry: ResolvedRetryOptions;
  #failure: { readonly error: TokenError; readonly untilMs: number } | undefined;
  /** Endpoint failures in a row. */
  #streak = 0;
  /** The probe in flight: resolves with its error, or undefined when it succeeded. */
  readonly #probe = new SingleFlight<TokenError | undefined>();
  #active = 0;
  readonly #queue: Array<() => void> = [];

  constructor(clock: Clock, retry: ResolvedRetryOptions) {
    this.#clock = clock;
    this.#retry = retry;
  }

  /**
   * Runs `send` (one request) when the endpoint may be asked; rejects with the probe's error when
   * another scope set's probe just failed, without sending anything.
   */
  async send<T>(send: () => Promise<T>, signal: AbortSignal): Promise<T> {
    // Each pass re-reads the endpoint's state: it may have failed while this request waited its turn.
    for (;;) {
      const waitMs = (this.#failure?.untilMs ?? 0) - monotonicNow(this.#clock);
      if (waitMs > 0) {
        await sleep(this.#clock, waitMs, signal);
      } else if (this.#streak > 0 && this.#probe.pending !== undefined) {
        const probeError = await this.#probe.pending;
        if (probeError !== undefined) throw probeError;
      } else if (this.#streak > 0) {
        return this.#runProbe(send);
      } else if (this.#active < maxConcurrentRequests) {
        return this.#run(send);
      } else {
        await this.#turn(signal);
      }
    }
  }

  /**
   * How long a retry of a request that just failed waits, in milliseconds: what is left of the
   * endpoint's backoff, which {@link EndpointGate.record} drew for that failure. The one backoff of a
   * retryable failure; a scope set's retry loop waits exactly this long.
   */
  backoffMs(): number {
    return Math.max(0, (this.#failure?.untilMs ?? 0) - monotonicNow(this.#clock));
  }

  /** Records how a request ended: an endpoint failure backs the endpoint off, anything else clears it. */
  record(error: TokenError | undefined): void {
    // Whoever waits for a turn looks at the new state, rather than queueing behind a failed endpoint.
    for (const wake of this.#queue.splice(0)) wake();
    if (error === undefined || !isEndpointFailure(error)) {
      this.#streak = 0;
      this.#failure = undefined;
      return;
    }
    const now = monotonicNow(this.#clock);
    // Requests that were in flight together fail together: one more failure of the endpoint, not many.
    if (this.#failure !== undefined && now < this.#failure.untilMs) return;
    this.#streak++;
    const delayMs = retryDelayMs(this.#streak - 1, this.#retry, error.retryAfterMs);
    this.#failure = { error, untilMs: now + delayMs };
  }

  /** The one request sent while the endpoint is failing; the others wait for its outcome. */
  async #runProbe<T>(send: () => Promise<T>): Promise<T> {
    let outcome: { readonly value: T } | undefined;
    const probeError = await this.#probe.run(async () => {
      try {
        outcome = { value: await this.#run(send) };
        return undefined;
      } catch (error) {
        return error as TokenError;
      }
    });
    if (outcome === undefined) throw probeError as TokenError;
    return outcome.value;
  }

  async #run<T>(send: () => Promise<T>): Promise<T> {
    this.#active++;
    try {
      return await send();
    } finally {
      this.#active--;
      this.#queue.shift()?.();
    }
  }

  #turn(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      signal.throwIfAborted();
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}

/** The endpoint is in trouble, rather than our request being refused. */
function isEndpointFailure(error: TokenError): boolean {
  return error.retryable && error.code !== 'aborted' && error.code !== 'closed';
}
