// The options of the Connect server interceptor: the grpc-js server interceptor's, with an `authorize`
// rule that sees the request's `Headers` instead of grpc-js metadata.
import type { JWTPayload } from 'jose';
import type { CommonServerAuthOptions } from '../server/options.js';
import type { PeerIdentity } from '../server/peer-identity.js';

/** What `authorize` is asked about on a Connect server: a call whose token verified and whose scopes suffice. */
export interface ConnectAuthorizeRequest {
  /** The verified claims, frozen. */
  readonly claims: Readonly<JWTPayload>;
  /** The full method path, `/package.Service/Method` (from the request's `service.typeName` and `method.name`). */
  readonly method: string;
  /** The request headers (read them; changes are not seen by the decision). */
  readonly headers: Headers;
  /** The verified client certificate of the call's connection, when the adapter uses `connectPeerContextValues`. */
  readonly peer: PeerIdentity | undefined;
}

/**
 * Options of {@link createConnectServerAuthInterceptor}: the same as the grpc-js
 * `createServerAuthInterceptor`'s (`./server`), with the same defaults, and an `authorize` rule
 * that receives the request `Headers`. The issuers come either as the one-issuer shorthand
 * (`issuer`, `audience`, `jwksUri`, `algorithms`) or as `issuers`, not both. Unknown names are an
 * error, with a suggestion.
 *
 * @example
 * ```ts
 * const options: ConnectServerAuthOptions = {
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://orders.example.com',
 *   methods: { '/orders.v1.Orders/GetOrder': ['orders.read'], '/orders.v1.Orders/*': ['orders.admin'] },
 *   authorize: ({ claims, headers }) => claims.tenant === headers.get('x-tenant'),
 * };
 * ```
 */
export interface ConnectServerAuthOptions extends CommonServerAuthOptions<ConnectAuthorizeRequest> {
  /**
   * An extra rule after the scope check (roles, tenants), given the claims, the method and the
   * request headers: return `true` to allow, `false` to refuse with `PermissionDenied`; may be
   * async. Throwing, rejecting or returning anything else refuses the call with `Internal`
   * (`authorize_failed`). Default: none (the scopes decide).
   */
  authorize?: (request: ConnectAuthorizeRequest) => boolean | Promise<boolean>;
}
