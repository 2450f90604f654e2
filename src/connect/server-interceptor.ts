// createConnectServerAuthInterceptor: the Connect-ES server interceptor that verifies each call's
// bearer token and applies the method policy, with the grpc-js server interceptor's options, policy,
// codes and reasons.
import type { Interceptor, StreamRequest, UnaryRequest } from '@connectrpc/connect';
import { report } from '../server/audit.js';
import { Authenticator } from '../server/authenticator.js';
import { decide, type CallToDecide, type Decision, type DecisionParts } from '../server/decision.js';
import { streamExpired, undecided } from '../server/denial.js';
import { resolveOptions } from '../server/options.js';
import type { PeerIdentity } from '../server/peer-identity.js';
import { Policy } from '../server/policy.js';
import { connectErrorOf } from './denial-error.js';
import { claimsKey } from './server-claims.js';
import { peerKey } from './server-peer.js';
import type { ConnectAuthorizeRequest, ConnectServerAuthOptions } from './server-options.js';
import { endingAtExpiry } from './stream-expiry.js';

const where = 'createConnectServerAuthInterceptor';

/**
 * The interceptor {@link createConnectServerAuthInterceptor} returns: a Connect `Interceptor`, with
 * `ready()` to fetch every issuer's keys before the server takes calls.
 */
export interface ConnectServerAuthInterceptor extends Interceptor {
  /**
   * Fetches every issuer's discovery document and signing keys (and readies every introspection) now,
   * so that the first calls do not wait for them and a server whose IdP is down learns it at start-up.
   * Optional: without it, the first call that needs them fetches them. Resolves once all are ready;
   * rejects with an Error naming each issuer that failed and why (never a secret). May be called again.
   */
  ready(): Promise<void>;
}

/**
 * A Connect-ES (v2) server interceptor that authenticates and authorizes every call, for
 * `connectNodeAdapter({ routes, interceptors: [auth] })` and the Fastify, Express and Next.js
 * adapters, on the gRPC, gRPC-web and Connect protocols. The options, policy, codes and reasons are
 * those of `createServerAuthInterceptor` from `./server`.
 *
 * Before the handler runs: a public method passes; otherwise the one `authorization: Bearer <token>`
 * value must verify (signature by a key of the issuer's JWKS, an accepted algorithm, `iss`, `aud`,
 * `exp`, `nbf`, optionally `typ`), the token's scopes must meet the method's entry in `methods`, and
 * `authorize` (if given) must say `true`. A refused call ends with a `ConnectError` and its handler
 * never runs:
 * - `Unauthenticated`: no, malformed, expired or badly signed token;
 * - `PermissionDenied`: missing scopes (named in the message), a method the policy does not name,
 *   or `authorize` said no;
 * - `Unavailable`: the signing keys could not be fetched;
 * - `Internal`: `authorize` threw.
 * The message is one short sentence, never the token; the error's metadata carries the reason
 * (`grpc-oauth2-reason`) and, for `missing_scope`, the wanted scopes (`grpc-oauth2-scope`,
 * `grpc-oauth2-scope-rule`): trailers on the gRPC protocol, headers (unary) or end-of-stream metadata
 * on the Connect protocol.
 *
 * When it runs: on a streaming call, before the first request message is read. On a unary call,
 * Connect has already read and parsed the one request message (it does so before any interceptor
 * runs, on every protocol): bound it with the adapter's `readMaxBytes`.
 *
 * A streaming call that outlives its token ends `Unauthenticated` (`stream_token_expired`) at its
 * `exp` plus `clockToleranceSec`, unless `endStreamsAtExpiry: false`: the handler's `context.signal`
 * aborts and its next read of a request message throws. Handlers read the verified claims with
 * `getConnectAuthClaims(context)`.
 *
 * @throws AuthConfigError (a TypeError) for a bad option or policy, naming it.
 * @example
 * ```ts
 * const auth = createConnectServerAuthInterceptor({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://orders.example.com',
 *   methods: { '/orders.v1.Orders/GetOrder': ['orders.read'], '/orders.v1.Orders/*': ['orders.admin'] },
 * });
 * http2.createSecureServer({ cert, key }, connectNodeAdapter({ routes, interceptors: [auth] }));
 * ```
 */
export function createConnectServerAuthInterceptor(options: ConnectServerAuthOptions): ConnectServerAuthInterceptor {
  const settings = resolveOptions<ConnectAuthorizeRequest>(options, where);
  const authenticator = new Authenticator(settings);
  const parts: DecisionParts<ConnectAuthorizeRequest> = {
    ...settings,
    policy: new Policy(options.methods, options.publicMethods, where),
    authenticator,
  };

  const interceptor: Interceptor = (next) => async (request) => {
    const method = `/${request.service.typeName}/${request.method.name}`;
    const decision = await decisionOf(parts, method, request);
    // Only for the audit record: no closure per call without an onDecision hook.
    const peerOf = settings.onDecision && ((): PeerIdentity | undefined => request.contextValues.get(peerKey));
    report(settings.onDecision, method, decision, peerOf);
    if (decision.denial !== undefined) throw connectErrorOf(decision.denial);
    request.contextValues.set(claimsKey, decision.claims);
    const { claims } = decision;
    if (!request.stream || !settings.endStreamsAtExpiry || claims === undefined) return next(request);
    const validUntilMs = authenticator.validUntilMs(claims);
    // An introspected token whose answer has no exp: nothing to end the stream at.
    if (validUntilMs === Infinity) return next(request);
    return endingAtExpiry(next, request, settings.clock, validUntilMs, () => {
      // The stream's claims, so that the audit record names whose stream ended.
      const expired = { denial: streamExpired, claims, isPublic: false };
      report(settings.onDecision, method, expired, peerOf);
      return connectErrorOf(streamExpired);
    });
  };
  return Object.assign(interceptor, { ready: () => authenticator.ready() });
}

/** The decision for `request`; a failure of this package (decide() never rejects) refuses it `Internal`. */
async function decisionOf(
  parts: DecisionParts<ConnectAuthorizeRequest>,
  method: string,
  request: UnaryRequest | StreamRequest,
): Promise<Decision> {
  const call: CallToDecide<ConnectAuthorizeRequest> = {
    method,
    // A Headers object holds one value per name (repeated ones are joined with ", ", which no bearer
    // token contains, so such a value is refused as malformed).
    authorization: () => {
      const value = request.header.get('authorization');
      return value === null ? [] : [value];
    },
    // Set by connectPeerContextValues in the adapter's contextValues; else no certificate is known.
    peerCertificateSha256: () => request.contextValues.get(peerKey)?.certificateSha256,
    dpopProofs: () => {
      const value = request.header.get('dpop');
      return value === null ? [] : [value];
    },
    // The request URL the Connect adapter built from the request's authority.
    authority: () => (URL.canParse(request.url) ? new URL(request.url).host : undefined),
    authorizeRequest: (claims) => ({
      claims,
      method,
      headers: request.header,
      peer: request.contextValues.get(peerKey),
    }),
  };
  try {
    return await decide(parts, call);
  } catch {
    return { denial: undecided, claims: undefined, isPublic: false };
  }
}
