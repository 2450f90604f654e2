// The options of the server interceptors (grpc-js and Connect): their types, defaults and strict checks.
import type { Metadata } from '@grpc/grpc-js';
import type { JWTPayload } from 'jose';
import {
  checkBoolean,
  checkClock,
  checkFunction,
  checkNumber,
  checkOptionNames,
  type NumberRange,
} from '../common/option-checks.js';
import type { Clock } from '../common/clock.js';
import { AuthConfigError } from '../common/config-error.js';
import { defaultMaxTokenBytes } from './bearer.js';
import { CertificateBinding } from './certificate-binding.js';
import type { DenialReason } from './denial.js';
import { DpopBinding } from './dpop-binding.js';
import { resolveIssuers, shorthandNames, type IssuerOptions, type ResolvedIssuer } from './issuer-options.js';
import type { PeerIdentity } from './peer-identity.js';
import type { MethodPolicy } from './policy.js';
import { defaultMaxCachedTokens } from './verified-cache.js';

/** What `authorize` is asked about: a call whose token verified and whose scopes suffice. */
export interface AuthorizeRequest {
  /** The verified claims. */
  readonly claims: Readonly<JWTPayload>;
  /** The full method path, `/package.Service/Method`. */
  readonly method: string;
  /** The request metadata (read it; changes are not seen by the decision). */
  readonly metadata: Metadata;
  /** The verified client certificate of the call's connection (mutual TLS), else `undefined`. */
  readonly peer: PeerIdentity | undefined;
}

/** One decision, given to `onDecision`. It never holds the token. */
export interface AuthDecision {
  /** The full method path. */
  readonly method: string;
  readonly allowed: boolean;
  /** The gRPC status code the call ends with when refused (Connect's `Code` has the same number); `0` (OK) when allowed. */
  readonly code: number;
  /** `'granted'` (token and scopes fit), `'public'` (no token needed), or the {@link DenialReason}. */
  readonly reason: DenialReason | 'granted' | 'public';
  /** The status details sent to the client; empty when allowed. */
  readonly details: string;
  /**
   * `details` with what the client is not told, for the server's own logs: for `keys_unavailable`
   * the discovery or JWKS URL that failed and how, for `authorize_failed` what the rule threw (its
   * name). The same as `details` for every other reason; empty when allowed.
   */
  readonly internalDetails: string;
  /** The verified token's `sub`; `undefined` when the token did not verify (an unverified `sub` proves nothing). */
  readonly subject: string | undefined;
  /** The issuer that verified the token (its `iss`); `undefined` when no token verified. */
  readonly issuer: string | undefined;
  /**
   * The verified client certificate of the call's connection (mutual TLS, see `getPeerIdentity`);
   * `undefined` without one, and on Connect servers.
   */
  readonly peer: PeerIdentity | undefined;
}

/**
 * Options of {@link createServerAuthInterceptor} (and of the Connect server interceptor, whose
 * `authorize` receives the request headers instead of grpc-js metadata). The issuers come either as
 * the one-issuer shorthand (`issuer`, `audience`, `jwksUri`, `algorithms`) or as `issuers`, not both.
 * Unknown names are an error, with a suggestion.
 */
export interface ServerAuthOptions extends CommonServerAuthOptions<AuthorizeRequest> {
  /**
   * An extra rule after the scope check (roles, tenants), given the claims, the method and the
   * request metadata: return `true` to allow, `false` to refuse with `PERMISSION_DENIED`; may be
   * async. Throwing, rejecting or returning anything else refuses the call with `INTERNAL` (`authorize_failed`).
   */
  authorize?: (request: AuthorizeRequest) => boolean | Promise<boolean>;
}

/** The options every server interceptor of this package takes; `Request` is what `authorize` is asked about. */
export interface CommonServerAuthOptions<Request> {
  /** The one issuer tokens must come from (`iss`, compared exactly), e.g. `'https://auth.example.com'`; or use `issuers`. */
  issuer?: string;
  /** With `issuer`: the `aud` this server answers to; a token must name one of them. */
  audience?: string | readonly string[];
  /** With `issuer`: its JWKS. Default: the `jwks_uri` of its discovery document (RFC 8414, then OpenID Connect). */
  jwksUri?: string;
  /** With `issuer`: JWS algorithms accepted. Default: every asymmetric one jose supports; `none` and HMAC (`HS*`) are refused. */
  algorithms?: readonly string[];
  /**
   * Every issuer whose tokens the server accepts, instead of `issuer`/`audience`/`jwksUri`/`algorithms`.
   * A JWT goes by its `iss` to that issuer's settings and is verified with that issuer's keys only; a
   * JWT whose `iss` is none of them is refused (`unknown_issuer`) without any request.
   */
  issuers?: readonly IssuerOptions[];
  /** Allowed clock skew for `exp` and `nbf`, in seconds. Default 30. */
  clockToleranceSec?: number;
  /** Require the JWT header `typ: at+jwt` of RFC 9068 access tokens. Default `false`. */
  requireAtJwt?: boolean;
  /** Scopes per full method path or `'/package.Service/*'`; a method named nowhere is refused. Required. */
  methods: MethodPolicy;
  /** Methods that need no token. Default: `/grpc.health.v1.Health/Check` and `/grpc.health.v1.Health/Watch`. */
  publicMethods?: readonly string[];
  /**
   * An extra rule after the scope check (roles, tenants): return `true` to allow, `false` to refuse
   * with `PERMISSION_DENIED`; may be async. Throwing, rejecting or returning anything else refuses
   * the call with `INTERNAL` (`authorize_failed`).
   */
  authorize?: (request: Request) => boolean | Promise<boolean>;
  /** End a streaming call with `UNAUTHENTICATED` when its token expires (`exp` plus the tolerance). Default `true`. */
  endStreamsAtExpiry?: boolean;
  /** Accept `http://` issuer and JWKS URLs (local tests only; off loopback, a warning once per process). Default `false`. */
  allowInsecureRequests?: boolean;
  /** Called with every decision; what it throws or rejects with is ignored (and logged under `NODE_DEBUG=grpc-oauth2`). */
  onDecision?: (decision: AuthDecision) => void;
  /** Largest token accepted, in bytes, checked before any parsing. Default 8192. */
  maxTokenBytes?: number;
  /**
   * Verified tokens remembered (by SHA-256, never the token) until their `exp`, for 10 minutes at most, and
   * until the keys are refetched. Default 10000; `0` turns the cache off.
   */
  maxCachedTokens?: number;
  /** Least time between two JWKS refetches for an unknown `kid`, in seconds. Default 30. */
  jwksRefetchCooldownSec?: number;
  /** Bound of each discovery and JWKS request, in milliseconds. Default 5000. */
  requestTimeoutMs?: number;
  /** Where time is read and stream-expiry timers are set. Default: the system clock. Tests pass a `ManualClock`. */
  clock?: Clock;
  /**
   * Methods that accept only tokens bound to the caller's client certificate (RFC 8705 §3, a `cnf`
   * with `x5t#S256`): `true` for every method, or full method paths and `'/package.Service/*'`
   * wildcards; an unbound token there is refused `UNAUTHENTICATED` (`token_not_bound`). Whatever this
   * says, a bound token is accepted only from a connection whose verified client certificate has its
   * thumbprint (`certificate_mismatch` otherwise). Default `false`.
   */
  requireBoundTokens?: boolean | readonly string[];
  /**
   * DPoP-bound tokens (RFC 9449). Whatever this says, a token bound to a key (`cnf.jkt`) is accepted
   * only as `authorization: DPoP <token>` with one valid `dpop` proof of that key for this call
   * (`htm` `POST`, `htu` `https://<the call's :authority>/<package.Service>/<Method>`, `iat`, `jti`
   * not seen before, `ath`), and the `DPoP` scheme takes bound tokens only. `'required'`: a token
   * without `cnf.jkt` is refused too (`token_not_bound`), so that only DPoP calls pass. `'allowed'`,
   * or not set (the default): bearer tokens without `cnf.jkt` still pass under the `Bearer` scheme, as
   * before this option existed.
   */
  dpop?: 'required' | 'allowed';
  /** Oldest DPoP proof accepted (its `iat`), in seconds, on top of `clockToleranceSec`. Default 60. */
  dpopMaxAgeSec?: number;
  /**
   * DPoP proofs remembered against replay (their key thumbprint and `jti`, each until its `iat` is
   * too old to pass); beyond this many the oldest is forgotten, so memory stays bounded. Default 100000.
   */
  dpopReplayCacheSize?: number;
}

/** Every option name, for the unknown-name check. */
const optionNames: readonly string[] = Object.freeze([
  ...shorthandNames,
  ...([
    'issuers',
    'clockToleranceSec',
    'requireAtJwt',
    'methods',
    'publicMethods',
    'authorize',
    'endStreamsAtExpiry',
    'allowInsecureRequests',
    'onDecision',
    'maxTokenBytes',
    'maxCachedTokens',
    'jwksRefetchCooldownSec',
    'requestTimeoutMs',
    'clock',
    'requireBoundTokens',
    'dpop',
    'dpopMaxAgeSec',
    'dpopReplayCacheSize',
  ] satisfies (keyof ServerAuthOptions)[]),
]);

/** The options, checked, with their defaults filled in. */
export interface ResolvedOptions<Request = unknown> {
  readonly issuers: readonly ResolvedIssuer[];
  readonly clockToleranceSec: number;
  readonly requireAtJwt: boolean;
  readonly authorize: CommonServerAuthOptions<Request>['authorize'];
  readonly endStreamsAtExpiry: boolean;
  readonly allowInsecureRequests: boolean;
  readonly onDecision: ((decision: AuthDecision) => void) | undefined;
  readonly maxTokenBytes: number;
  readonly maxCachedTokens: number;
  readonly jwksRefetchCooldownSec: number;
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
  readonly certificateBinding: CertificateBinding;
  readonly dpopBinding: DpopBinding;
}

/**
 * Checks `options` (the policy is checked by `Policy`).
 *
 * @param where - the function whose options these are, for messages.
 * @throws AuthConfigError naming the option.
 */
export function resolveOptions<Request>(options: unknown, where: string): ResolvedOptions<Request> {
  if (options === undefined)
    throw new AuthConfigError(`${where} needs options: issuer and audience (or issuers), and methods`);
  checkOptionNames(options, optionNames, `${where} option`);
  const given = options as Record<string, unknown>;
  const allowInsecureRequests = checkBoolean(given.allowInsecureRequests, `${where}: allowInsecureRequests`) ?? false;
  const number = (name: string, fallback: number, range: NumberRange): number =>
    checkNumber(given[name], `${where}: ${name}`, fallback, range);
  const clockToleranceSec = number('clockToleranceSec', 30, { min: 0, max: 3600 });
  return {
    issuers: resolveIssuers(given, where, allowInsecureRequests),
    clockToleranceSec,
    requireAtJwt: checkBoolean(given.requireAtJwt, `${where}: requireAtJwt`) ?? false,
    authorize: checkFunction(given.authorize, `${where}: authorize`),
    endStreamsAtExpiry: checkBoolean(given.endStreamsAtExpiry, `${where}: endStreamsAtExpiry`) ?? true,
    allowInsecureRequests,
    onDecision: checkFunction(given.onDecision, `${where}: onDecision`),
    maxTokenBytes: number('maxTokenBytes', defaultMaxTokenBytes, { min: 256, max: 1 << 20, integer: true }),
    maxCachedTokens: number('maxCachedTokens', defaultMaxCachedTokens, { min: 0, max: 10_000_000, integer: true }),
    jwksRefetchCooldownSec: number('jwksRefetchCooldownSec', 30, { min: 0, max: 86_400 }),
    requestTimeoutMs: number('requestTimeoutMs', 5000, { min: 1, max: 600_000, integer: true }),
    clock: checkClock(given.clock, `${where}: clock`),
    certificateBinding: new CertificateBinding(given.requireBoundTokens, where),
    dpopBinding: new DpopBinding(given, where, clockToleranceSec),
  };
}
