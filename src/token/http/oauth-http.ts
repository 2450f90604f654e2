import {
  Configuration,
  allowInsecureRequests,
  clockSkew,
  customFetch,
  type ClientAuth,
  type ServerMetadata,
} from 'openid-client';
import { readCappedBody } from '../../common/capped-body.js';
import { systemClock, type Clock } from '../../common/clock.js';
import { TokenError } from '../errors.js';
import { describeEndpoint } from './endpoint-url.js';
import type { ProxyRoute } from './proxy.js';
import type { AnswerTiming } from './token-response.js';

/** Largest token endpoint answer read, in bytes; a larger one is cut off as an invalid answer. */
const maxAnswerBytes = 1024 * 1024;

/**
 * Bodies of error answers, by the Response handed to openid-client. openid-client reports a 5xx as
 * an unexpected status without reading its body, which may still name an OAuth error
 * (`temporarily_unavailable`); the classifier looks here for it.
 */
export const errorAnswerBodies: WeakMap<Response, Uint8Array> = new WeakMap();

/** HTTP settings shared by every request to the authorization server. */
export interface HttpSettings {
  readonly requestTimeoutMs: number;
  readonly allowInsecureRequests: boolean;
  readonly clock: Clock;
  /** How requests leave the process (a proxy, or none). Default: node's fetch, which uses no proxy. */
  readonly proxy?: ProxyRoute;
  /**
   * Send token requests to the server's `mtls_endpoint_aliases` when its metadata has them (RFC 8705
   * §5): set for a client authenticating with a TLS client certificate. Default false.
   */
  readonly useMtlsEndpointAliases?: boolean;
}

/**
 * Filled in by the fetch of one request: its URL and status (a discovery failure names the document
 * that failed) and its timing (read by the expiry computation).
 */
export interface RecordedRequest {
  url?: string;
  status?: number;
  sentAtMs?: number;
  receivedAtMs?: number;
  serverDateMs?: number;
}

/** The timing of a finished request, for `tokenFromAnswer`. */
export function answerTiming(recorded: RecordedRequest, clock: Clock): AnswerTiming {
  const now = clock.now();
  return {
    sentAtMs: recorded.sentAtMs ?? now,
    receivedAtMs: recorded.receivedAtMs ?? now,
    serverDateMs: recorded.serverDateMs,
  };
}

/**
 * A fetch for openid-client that adds what it does not do: a timeout that also covers reading the
 * body (a server that sends headers and then nothing must not hold a refresh forever), a size limit
 * on the body, cancellation when the manager closes, and a record of the request (when it was sent,
 * the server's `Date` header, the status). `what` names the kind of URL in messages.
 */
export function boundedFetch(
  settings: HttpSettings,
  closeSignal: AbortSignal,
  record: RecordedRequest,
  what = 'token endpoint',
) {
  return async (url: string, options: RequestInit): Promise<Response> => {
    const timeout = AbortSignal.timeout(settings.requestTimeoutMs);
    const signals = [timeout, closeSignal, ...(options.signal ? [options.signal] : [])];
    const signal = AbortSignal.any(signals);
    record.url = url;
    try {
      record.sentAtMs = settings.clock.now();
      // undici's own dispatcher works with node's fetch (openid-client documents this use of customFetch).
      const dispatcher = settings.proxy?.dispatcher;
      const response = await fetch(url, { ...options, signal, dispatcher } as RequestInit);
      record.status = response.status;
      const body = await readCappedBody(
        response.body,
        response.headers,
        maxAnswerBytes,
        () => tooLarge(response.url, what),
        signal,
      );
      record.receivedAtMs = settings.clock.now();
      const date = Date.parse(response.headers.get('date') ?? '');
      if (!Number.isNaN(date)) record.serverDateMs = date;
      const nullBody = response.status === 204 || response.status === 205 || response.status === 304;
      const copy = new Response(nullBody ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      if (response.status >= 400) errorAnswerBodies.set(copy, body);
      return copy;
    } catch (err) {
      if (closeSignal.aborted) throw new TokenError('closed', 'the TokenManager was closed', { cause: err });
      if (timeout.aborted) {
        throw new TokenError(
          'timeout',
          `${what} ${describeEndpoint(url)} did not answer within ${settings.requestTimeoutMs} ms`,
          {
            retryable: true,
            cause: err,
          },
        );
      }
      throw err;
    }
  };
}

function tooLarge(url: string, what: string): TokenError {
  return new TokenError(
    'invalid_response',
    `${what} ${describeEndpoint(url)} sent an answer larger than ${maxAnswerBytes} bytes`,
    {
      retryable: true,
    },
  );
}

/**
 * An openid-client `Configuration` for one request: fresh per request so that its fetch records that
 * request's timing. Building one is cheap; token requests are rare. `what` names the endpoint in
 * messages (default `'token endpoint'`).
 */
export function configurationFor(
  metadata: ServerMetadata,
  clientId: string,
  clientAuth: ClientAuth,
  settings: HttpSettings,
  closeSignal: AbortSignal,
  record: RecordedRequest,
  what?: string,
): Configuration {
  // openid-client dates what it signs (a private_key_jwt assertion's iat, nbf and exp) by Date.now():
  // told how far an injected clock is from it, it dates them by that clock, as the JWT-bearer grant
  // does. Whole seconds, rounded down, so that an assertion is never dated ahead of the clock.
  const skewSec = settings.clock === systemClock ? 0 : Math.floor((settings.clock.now() - Date.now()) / 1000);
  const clientMetadata = { [clockSkew]: skewSec, use_mtls_endpoint_aliases: settings.useMtlsEndpointAliases === true };
  const config = new Configuration(metadata, clientId, clientMetadata, clientAuth);
  config[customFetch] = boundedFetch(settings, closeSignal, record, what);
  config.timeout = settings.requestTimeoutMs / 1000;
  if (settings.allowInsecureRequests) allowInsecureRequests(config);
  return config;
}
