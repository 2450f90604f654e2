// One call through the Connect interceptor: its token attached, and what happens when the server
// rejects it. The URL and the method's plan have been checked before this runs.
import type { StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from '@connectrpc/connect';
import { bearerValueFor, fetchBearerHeader, type BearerHeader, type UnsendableToken } from '../calls/bearer-value.js';
import { cachedToken, type MethodPlan } from '../calls/method-plan.js';
import {
  callEndedError,
  dpopTokenError,
  newTokenMayFix,
  noOtherTokenError,
  tokenFailureError,
  unusableTokenError,
} from './errors.js';

type Next = (request: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;

/**
 * Sends `request` with a bearer token from the plan's provider. A unary call the server rejects
 * `Unauthenticated`, for a reason a new token may fix, is sent once more with a fresh token when the
 * plan allows it and the provider has another token: at most two attempts on the wire. Every token so
 * rejected is invalidated, on every call kind; a streaming call is never sent again (its request
 * messages are gone).
 *
 * @internal
 * @example
 * ```ts
 * const interceptor: Interceptor = (next) => (request) => authorizedCall(next, request, plan);
 * ```
 */
export async function authorizedCall(
  next: Next,
  request: UnaryRequest | StreamRequest,
  plan: MethodPlan,
): Promise<UnaryResponse | StreamResponse> {
  const sent = await attachToken(request, plan, undefined);
  if (request.stream) return invalidatingOnRejection(await sendStream(next, request, plan, sent), plan, sent);
  try {
    return await next(request);
  } catch (error) {
    if (!newTokenMayFix(error) || !invalidated(plan, sent)) throw error;
    if (!plan.replayable || cachedToken(plan)?.accessToken === sent) throw error;
    const replayed = await attachToken(request, plan, sent);
    try {
      return await next(request);
    } catch (again) {
      if (newTokenMayFix(again)) invalidated(plan, replayed);
      throw again;
    }
  }
}

/**
 * Puts `authorization: Bearer <token>` on the request and returns the token sent. The request's
 * headers were made for this call by the transport, so setting ours on them leaves nothing of the
 * caller's changed. A caller-set `authorization` wins: nothing is fetched and ours stays off (one
 * header, never two); `undefined` is returned then. The wait for a token ends with the request's
 * signal (`timeoutMs`, an abort); the token request itself goes on, shared with other calls.
 */
async function attachToken(
  request: UnaryRequest | StreamRequest,
  plan: MethodPlan,
  rejected: string | undefined,
): Promise<string | undefined> {
  if (rejected === undefined && request.header.has('authorization')) return undefined;
  const cached = cachedToken(plan);
  const cachedHeader = cached === undefined || cached.accessToken === rejected ? undefined : bearerValueFor(cached);
  if (cached !== undefined && cachedHeader !== undefined) {
    request.header.set('authorization', cachedHeader);
    return cached.accessToken;
  }
  const { signal } = request;
  if (signal.aborted) throw callEndedError(signal);
  let bearer: BearerHeader | UnsendableToken;
  try {
    bearer = await fetchBearerHeader(plan.tokens, { ...plan.getTokenOptions, signal });
  } catch (error) {
    throw signal.aborted ? callEndedError(signal) : tokenFailureError(error);
  }
  if (bearer === 'dpop') throw dpopTokenError();
  if (bearer === 'malformed') throw unusableTokenError();
  if (bearer.accessToken === rejected) throw noOtherTokenError();
  request.header.set('authorization', bearer.header);
  return bearer.accessToken;
}

/**
 * Invalidates the rejected token (not the caller's own: then `accessToken` is undefined); true when
 * the provider dropped it. `false` means it kept the token, as the TokenManager does when a forced
 * refresh happened moments ago: sending the call again could only be rejected again.
 */
function invalidated(plan: MethodPlan, accessToken: string | undefined): boolean {
  if (accessToken === undefined) return false;
  try {
    return plan.tokens.invalidate(accessToken) !== false;
  } catch {
    return false; // a custom provider's bug: the call ends with the server's error
  }
}

async function sendStream(
  next: Next,
  request: StreamRequest,
  plan: MethodPlan,
  sent: string | undefined,
): Promise<StreamResponse> {
  try {
    return (await next(request)) as StreamResponse;
  } catch (error) {
    if (newTokenMayFix(error)) invalidated(plan, sent);
    throw error;
  }
}

/**
 * The response, with its messages watched for the server's `Unauthenticated`, which on a stream
 * usually arrives with the end of the response rather than with its headers.
 */
function invalidatingOnRejection(response: StreamResponse, plan: MethodPlan, sent: string | undefined): StreamResponse {
  if (sent === undefined) return response;
  const messages = response.message;
  async function* watched(): AsyncGenerator<unknown> {
    try {
      yield* messages;
    } catch (error) {
      if (newTokenMayFix(error)) invalidated(plan, sent);
      throw error;
    }
  }
  return { ...response, message: watched() } as StreamResponse;
}
