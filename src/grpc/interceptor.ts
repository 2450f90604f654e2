import {
  InterceptingCall,
  type ChannelCredentials,
  type Interceptor,
  type InterceptorOptions,
  type NextCall,
} from '@grpc/grpc-js';
import {
  checkInterceptorOptions,
  methodPlans,
  type RetryOnUnauthenticated,
  type ScopesFor,
} from '../calls/method-plan.js';
import type { TokenProvider } from '../token/token-provider.js';
import { callCredentialsFrom } from './call-credentials.js';
import { checkChannelSecurity, hasComposedCallCredentials } from './channel-security.js';
import { AuthConfigError } from '../common/config-error.js';
import { ReplayingCall } from './replaying-call.js';
import { misconfiguredMethodStatus, type TokenCallError } from './status.js';

/**
 * Options of {@link createAuthInterceptor}.
 *
 * @example
 * ```ts
 * const tls = grpc.credentials.createSsl(ca);
 * const options: AuthInterceptorOptions = {
 *   channelCredentials: tls,
 *   scopesFor: (method) => (method.startsWith('/inventory.v1.') ? ['inventory.read'] : undefined),
 *   retryOnUnauthenticated: (method) => method !== '/orders.v1.Orders/PlaceOrder',
 * };
 * ```
 */
export interface AuthInterceptorOptions {
  /**
   * The channel credentials the client was created with. Required: it is how the interceptor knows
   * whether the channel is encrypted, since grpc-js sends per-call credentials over plaintext too.
   * Insecure credentials are refused with an {@link InsecureChannelError} unless
   * `allowInsecureChannel` is set; credentials that already carry call credentials are refused too.
   */
  channelCredentials: ChannelCredentials;
  /**
   * Picks the scopes for a method from its full path (`/pkg.Service/Method`). Return `undefined` for
   * the TokenManager's configured scopes. Called on the method's first call; each distinct scope set
   * gets its own cached token. If it throws or returns something other than scope strings, the calls
   * of that method end `INTERNAL` (details name the method and the problem) without being sent, and it
   * is asked again on the next one. Default: the configured scopes for every method.
   */
  scopesFor?: ScopesFor;
  /**
   * When a unary or server-streaming call ends `UNAUTHENTICATED` before any response, make it once
   * more with a fresh token (the rejected one is invalidated on every call type, whatever this says).
   * Client-streaming and bidi calls are never replayed. A function of the full method path decides per
   * method (asked once per unary or server-streaming method). Default `true`.
   */
  retryOnUnauthenticated?: RetryOnUnauthenticated;
  /**
   * Attach tokens even though `channelCredentials` are insecure: every token then travels in plaintext.
   * For local development against a plaintext server only; a warning is emitted once per process.
   * Default `false`.
   */
  allowInsecureChannel?: boolean;
}

const interceptorOptionNames = [
  'channelCredentials',
  'scopesFor',
  'retryOnUnauthenticated',
  'allowInsecureChannel',
] as const;

/**
 * A grpc-js client interceptor that puts `authorization: Bearer <token>` on every call: unary,
 * client-streaming, server-streaming and bidi.
 *
 * - **Insecure channels**: refused at construction with an {@link InsecureChannelError} (nothing is
 *   sent, no token is fetched) unless `allowInsecureChannel: true`.
 * - **The caller's own `authorization` wins.** A call whose metadata (or per-call credentials) already
 *   carries `authorization` is sent with that header and without ours: grpc-js would fail a call with
 *   two values and drop the connection, ending every other call on it (docs/grpc-js-facts.md, "Two
 *   authorization values drop the connection"). The caller's Metadata object is never changed.
 * - **Deadlines**: waiting for a token ends when the call does (deadline, cancellation); the call ends
 *   `DEADLINE_EXCEEDED` on time even while the token server hangs.
 * - **Token failures** end the call without reaching the server: `UNAVAILABLE` when retrying may help,
 *   `UNAUTHENTICATED` when it will not.
 * - **Rejected tokens**: a token the server answers `UNAUTHENTICATED` to is invalidated; see
 *   `retryOnUnauthenticated` for the one replay. A server must therefore not act on a request before it
 *   has authenticated it.
 *
 * Call-level `interceptors` in `CallOptions` replace the client's interceptors in grpc-js, this one
 * included (docs/grpc-js-facts.md, "Call-level interceptors replace the client's");
 * {@link createChannelCredentials} has no such gap and is the safer choice when every call
 * uses the same scopes.
 *
 * @param tokens - where tokens come from, normally a {@link TokenManager}.
 * @throws InsecureChannelError for insecure `channelCredentials` without `allowInsecureChannel`.
 * @throws AuthConfigError for an unknown or mistyped option (the message names it).
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { TokenManager, createAuthInterceptor } from 'grpc-oauth2-credentials';
 *
 * const tokens = new TokenManager({ tokenEndpoint, clientId, clientSecret, scopes: ['orders.read'] });
 * const tls = grpc.credentials.createSsl(ca);
 * const client = new OrdersClient('orders.example.com:443', tls, {
 *   interceptors: [
 *     createAuthInterceptor(tokens, {
 *       channelCredentials: tls,
 *       scopesFor: (method) => (method === '/orders.v1.Orders/PlaceOrder' ? ['orders.write'] : undefined),
 *     }),
 *   ],
 * });
 * ```
 */
export function createAuthInterceptor(tokens: TokenProvider, options: AuthInterceptorOptions): Interceptor {
  const caller = 'createAuthInterceptor';
  const checked = checkInterceptorOptions(tokens, options, caller, interceptorOptionNames);
  const { allowInsecureChannel } = checked;
  const channelCredentials = checkChannelSecurity(options?.channelCredentials, { caller, allowInsecureChannel });
  if (hasComposedCallCredentials(channelCredentials)) {
    throw new AuthConfigError(
      `${caller}: channelCredentials already carry call credentials (from createChannelCredentials or ` +
        'combineChannelCredentials), which attach their own header; pass the plain TLS credentials, or use the composed ' +
        'credentials without this interceptor (two authorization headers make grpc-js drop the connection)',
    );
  }

  const planFor = methodPlans(checked);
  return (callOptions, nextCall) => {
    const definition = callOptions.method_definition;
    // Client-streaming and bidi calls send many messages, which are not kept for a replay.
    const plan = planFor(definition.path, !definition.requestStream);
    if ('problem' in plan) return failedCall(callOptions, nextCall, misconfiguredMethodStatus(plan.problem));
    return new ReplayingCall(plan, callOptions, nextCall);
  };
}

/** A call that ends with `failure` before anything is sent: grpc-js reports a generator's error as the status. */
function failedCall(callOptions: InterceptorOptions, nextCall: NextCall, failure: TokenCallError): InterceptingCall {
  return new InterceptingCall(
    nextCall({ ...callOptions, credentials: callCredentialsFrom(() => Promise.reject(failure)) }),
  );
}
