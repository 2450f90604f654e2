import type { Interceptor } from '@connectrpc/connect';
import {
  checkInterceptorOptions,
  methodPlans,
  type RetryOnUnauthenticated,
  type ScopesFor,
} from '../calls/method-plan.js';
import type { TokenProvider } from '../token/token-provider.js';
import { authorizedCall } from './authorized-call.js';
import { misconfiguredMethodError } from './errors.js';
import { checkRequestUrl } from './request-url.js';

/**
 * Options of {@link createConnectAuthInterceptor}.
 *
 * @example
 * ```ts
 * const options: ConnectAuthInterceptorOptions = {
 *   scopesFor: (method) => (method.startsWith('/inventory.v1.') ? ['inventory.read'] : undefined),
 *   retryOnUnauthenticated: (method) => method !== '/orders.v1.Orders/PlaceOrder',
 * };
 * ```
 */
export interface ConnectAuthInterceptorOptions {
  /**
   * Picks the scopes for a method from its full path (`/pkg.Service/Method`). Return `undefined` for
   * the TokenManager's configured scopes. Called on the method's first call; each distinct scope set
   * gets its own cached token. If it throws or returns something other than scope strings, the calls
   * of that method end with a ConnectError `Internal` (the message names the method and the problem)
   * without being sent, and it is asked again on the next one. Default: the configured scopes.
   */
  scopesFor?: ScopesFor;
  /**
   * When a unary call is rejected `Unauthenticated`, make it once more with a fresh token (the
   * rejected token is invalidated on every call kind, whatever this says). Streaming calls are never
   * made again. A function of the full method path decides per unary method (asked on its first
   * call). Default `true`.
   */
  retryOnUnauthenticated?: RetryOnUnauthenticated;
  /**
   * Send tokens to `http:` URLs too: every token then travels in plaintext. For local development
   * against a plaintext server only; a warning is emitted once per process. Default `false`: a call
   * to an `http:` URL ends `Unauthenticated` before anything is sent.
   */
  allowInsecureChannel?: boolean;
}

const interceptorOptionNames = ['scopesFor', 'retryOnUnauthenticated', 'allowInsecureChannel'] as const;

/**
 * A Connect-ES interceptor that puts `authorization: Bearer <token>` on every call (unary,
 * client-streaming, server-streaming, bidi) of a Connect, gRPC or gRPC-web transport.
 *
 * - **The URL is checked on every call**, before anything is sent or a token is fetched: an `http:`
 *   URL ends the call with `Unauthenticated` and a message saying why, unless `allowInsecureChannel`.
 *   Put this interceptor last in `interceptors` if another one rewrites the URL, so that the URL it
 *   checks is the one the request goes to.
 * - **The caller's own `authorization` wins**: a call whose headers already carry one is sent with it,
 *   without ours and without fetching a token.
 * - **Waiting for a token ends with the call** (`timeoutMs`, an abort signal): the call ends
 *   `DeadlineExceeded` or `Canceled` on time even while the token server hangs.
 * - **Token failures** end the call without sending it: `Unavailable` when retrying may help,
 *   `Unauthenticated` when it will not; the message says what failed, never a secret.
 * - **Rejected tokens**: a token the server answers `Unauthenticated` to is invalidated; a unary call
 *   is then made once more with a fresh token (see `retryOnUnauthenticated`), unless the TokenManager
 *   has no other token yet (it refreshes a rejected token only so often). A server must therefore not
 *   act on a request before it has authenticated it.
 *
 * @param tokens - where tokens come from, normally a `TokenManager`.
 * @throws AuthConfigError for an unknown or mistyped option (the message names it and suggests the
 *   likely one), or `tokens` that are not a `TokenProvider`.
 *
 * @example
 * ```ts
 * import { createClient } from '@connectrpc/connect';
 * import { createGrpcTransport } from '@connectrpc/connect-node';
 * import { TokenManager } from 'grpc-oauth2-credentials';
 * import { createConnectAuthInterceptor } from 'grpc-oauth2-credentials/connect';
 *
 * const tokens = new TokenManager({ tokenEndpoint, clientId, clientSecret, scopes: ['orders.read'] });
 * const transport = createGrpcTransport({
 *   baseUrl: 'https://orders.example.com',
 *   interceptors: [createConnectAuthInterceptor(tokens, { scopesFor: (method) => (method.endsWith('/PlaceOrder') ? ['orders.write'] : undefined) })],
 * });
 * const orders = createClient(OrdersService, transport);
 * ```
 */
export function createConnectAuthInterceptor(
  tokens: TokenProvider,
  options?: ConnectAuthInterceptorOptions,
): Interceptor {
  const checked = checkInterceptorOptions(tokens, options, 'createConnectAuthInterceptor', interceptorOptionNames);
  const planFor = methodPlans(checked);
  return (next) => async (request) => {
    const refusal = checkRequestUrl(request.url, checked.allowInsecureChannel);
    if (refusal !== undefined) throw refusal;
    // Only a unary call has its one request message at hand to send again.
    const plan = planFor(`/${request.service.typeName}/${request.method.name}`, request.method.methodKind === 'unary');
    if ('problem' in plan) throw misconfiguredMethodError(plan.problem);
    return authorizedCall(next, request, plan);
  };
}
