import { ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { TokenError } from '../errors.js';
import { containsSecret, redactSecrets } from '../../common/redact.js';
import { parseRetryAfterMs } from '../cache/backoff.js';
import { errorAnswerBodies } from './oauth-http.js';

/** What the classifier needs to word an error. */
export interface FailureContext {
  /** The URL that was asked (the token endpoint, a discovery document), as safe to print. */
  readonly endpoint: string;
  /** What `endpoint` is, for messages. Default `'token endpoint'`. */
  readonly what?: string;
  /** Values to scrub from any text that came from the server or a library, in every encoding. */
  readonly secrets: Iterable<string>;
  readonly nowMs: number;
}

/**
 * An OAuth `error` we pass on as `TokenError.code`: the plain error tokens RFC 6749 §5.2 and its
 * extensions define (`invalid_client`, `temporarily_unavailable`, ...). The RFC's grammar allows any
 * printable ASCII, but the code is chosen by the server and ends up in messages, events and gRPC
 * status details, so anything else (an echo of what it was sent, say) is treated as a broken answer.
 */
const oauthErrorToken = /^[a-z0-9_]{1,64}$/;

/** HTTP statuses after which trying again later may succeed. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Turns whatever a token request threw (openid-client 6 errors, fetch's `TypeError`, our own
 * `TokenError`) into one `TokenError` with a stable code.
 *
 * openid-client 6 reports (measured): a 401 with `WWW-Authenticate` as `WWWAuthenticateChallengeError`
 * whose `cause[0].parameters.error` is the OAuth error; a 4xx JSON error body as `ResponseBodyError`;
 * any other unexpected status as `ClientError` `OAUTH_RESPONSE_IS_NOT_CONFORM` with the `Response` as
 * cause; a network failure as a bare `TypeError('fetch failed')`; an `http:` endpoint without opt-in as
 * `OAUTH_HTTP_REQUEST_FORBIDDEN`.
 */
export function classifyFailure(err: unknown, context: FailureContext): TokenError {
  const own = findOwnError(err);
  if (own) return own;
  const error = classifyLibraryError(err, context);
  // The library's error may carry text the server sent back (an error_description, a header), and a
  // server may echo what it was sent. Keep its shape for debugging, scrubbed, not the object itself.
  Object.defineProperty(error, 'cause', { value: scrubbedCause(err, context.secrets, 0), enumerable: false });
  return error;
}

function scrubbedCause(err: unknown, secrets: Iterable<string>, depth: number): Error | undefined {
  if (!(err instanceof Error) || depth > 3) return undefined;
  const copy = new Error(redactSecrets(err.message, secrets).slice(0, 300)) as Error & {
    code?: string;
    status?: number;
  };
  copy.name = err.name;
  const { code, status } = err as { code?: unknown; status?: unknown };
  if (typeof code === 'string') copy.code = code;
  if (typeof status === 'number') copy.status = status;
  const inner = scrubbedCause(err.cause, secrets, depth + 1);
  if (inner !== undefined) copy.cause = inner;
  return copy;
}

function classifyLibraryError(err: unknown, context: FailureContext): TokenError {
  const where = `${context.what ?? 'token endpoint'} ${context.endpoint}`;

  if (err instanceof WWWAuthenticateChallengeError) {
    const params = err.cause[0]?.parameters;
    // A challenge without an error code is how a server says the client failed to authenticate.
    const code = params?.error === undefined ? 'invalid_client' : safeCode(params.error, context.secrets);
    return oauthError(err, code, params?.error_description, where, context);
  }
  if (err instanceof ResponseBodyError) {
    return oauthError(err, safeCode(err.error, context.secrets), err.error_description, where, context);
  }
  if (err instanceof ClientError) {
    switch (err.code) {
      case 'OAUTH_TIMEOUT':
        return new TokenError('timeout', `${where} did not answer in time`, { retryable: true, cause: err });
      case 'OAUTH_ABORT':
        return new TokenError('aborted', `request to ${where} was aborted`, { retryable: true, cause: err });
      case 'OAUTH_HTTP_REQUEST_FORBIDDEN':
      case 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN':
        return new TokenError(
          'insecure_endpoint',
          `${where} is not https; refusing to send credentials over plaintext (set allowInsecureRequests: true only for local tests)`,
          { cause: err },
        );
      case 'OAUTH_RESPONSE_IS_NOT_CONFORM':
      case 'OAUTH_RESPONSE_IS_NOT_JSON':
        if (err.cause instanceof Response) return unexpectedStatus(err.cause, err, context);
        break;
      default:
        break;
    }
    if (err.cause instanceof TypeError && isNetworkFailure(err.cause)) return networkError(err.cause, where);
    // Parse errors, invalid JSON members (missing access_token, non-numeric expires_in, unknown
    // token_type): the server answered, but not with a usable token.
    return new TokenError('invalid_response', `${where} sent an unusable answer (${safeLibraryMessage(err)})`, {
      retryable: true,
      cause: err,
    });
  }
  if (err instanceof TypeError && isNetworkFailure(err)) return networkError(err, where);
  if (err instanceof DOMException && err.name === 'TimeoutError') {
    return new TokenError('timeout', `${where} did not answer in time`, { retryable: true, cause: err });
  }
  return new TokenError('invalid_response', `request to ${where} failed unexpectedly`, { retryable: true, cause: err });
}

function findOwnError(err: unknown): TokenError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof TokenError) return e;
  }
  return undefined;
}

/**
 * An OAuth error answer: `code` as {@link safeCode} let it through, the server's `description`
 * scrubbed of secrets and clipped.
 */
function oauthError(
  err: WWWAuthenticateChallengeError | ResponseBodyError,
  code: string,
  description: string | undefined,
  where: string,
  context: FailureContext,
): TokenError {
  const { status, response } = err;
  const detail = description ? `: ${clip(redactSecrets(description, context.secrets))}` : '';
  const retryable = isRetryableStatus(status) || code === 'temporarily_unavailable' || code === 'server_error';
  const retryAfterMs = retryable ? parseRetryAfterMs(response?.headers.get('retry-after'), context.nowMs) : undefined;
  return new TokenError(code, `${where} answered HTTP ${status} ${describeCode(code)}${detail}`, {
    retryable,
    status,
    cause: err,
    retryAfterMs,
  });
}

function unexpectedStatus(response: Response, cause: unknown, context: FailureContext): TokenError {
  const where = `${context.what ?? 'token endpoint'} ${context.endpoint}`;
  const { status } = response;
  if (isRetryableStatus(status)) {
    const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), context.nowMs);
    const code = oauthErrorInBody(response, context.secrets) ?? 'server_error';
    return new TokenError(
      code,
      `${where} answered HTTP ${status}${code === 'server_error' ? '' : ` ${describeCode(code)}`}`,
      {
        retryable: true,
        status,
        cause,
        retryAfterMs,
      },
    );
  }
  // A 2xx that is not JSON may be a proxy's page in a hiccup: worth another try later. A 3xx (we never
  // follow redirects with credentials) or a 4xx without an OAuth error body will not fix itself.
  const retryable = status >= 200 && status < 300;
  const what =
    status >= 300 && status < 400
      ? 'a redirect, which is not followed'
      : 'an answer that is not an OAuth token response';
  return new TokenError('invalid_response', `${where} answered HTTP ${status}: ${what}`, { retryable, status, cause });
}

/** The `error` member of a JSON error body, if the answer had one. */
function oauthErrorInBody(response: Response, secrets: Iterable<string>): string | undefined {
  const body = errorAnswerBodies.get(response);
  if (body === undefined || body.byteLength > 16_384) return undefined;
  try {
    const json = JSON.parse(Buffer.from(body).toString('utf8')) as { error?: unknown } | null;
    return json?.error === undefined ? undefined : safeCode(json.error, secrets);
  } catch {
    return undefined;
  }
}

function networkError(err: TypeError, where: string): TokenError {
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  const detail = typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? ` (${code})` : '';
  return new TokenError('network', `could not reach ${where}${detail}`, { retryable: true, cause: err });
}

function isNetworkFailure(err: TypeError): boolean {
  return err.message === 'fetch failed' || err.message.startsWith('NetworkError') || err.message === 'terminated';
}

/** The server's OAuth error code when it is a plain error token and no secret; else `invalid_response`. */
function safeCode(code: unknown, secrets: Iterable<string>): string {
  return typeof code === 'string' && oauthErrorToken.test(code) && !containsSecret(code, secrets)
    ? code
    : 'invalid_response';
}

function describeCode(code: string): string {
  return code === 'invalid_response' ? 'with an error code that is not an OAuth error' : code;
}

/** openid-client's own messages are fixed strings; keep them short and free of server text. */
function safeLibraryMessage(err: ClientError): string {
  return clip(err.message.replace(/[^\x20-\x7E]/g, ''), 80);
}

function clip(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex -- control characters from a server must not reach logs
  const printable = text.replace(/[\x00-\x1F\x7F]/g, ' ');
  return printable.length > max ? `${printable.slice(0, max)}…` : printable;
}
