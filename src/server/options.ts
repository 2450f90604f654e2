// The options of createServerAuthInterceptor: their types, defaults and strict checks.
import type { Metadata, status } from '@grpc/grpc-js';
import type { JWTPayload } from 'jose';
import { checkBoolean, checkFunction, checkNonEmptyString, checkOptionNames } from '../common/option-checks.js';
import { systemClock, type Clock } from '../common/clock.js';
import { AuthConfigError, authConfigError } from '../common/config-error.js';
import { asymmetricAlgorithms } from '../common/jws-algorithms.js';
import { defaultMaxTokenBytes } from './bearer.js';
import type { DenialReason } from './denial.js';
import { jwksUrl } from './discovery.js';
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
}

/** One decision, given to `onDecision`. It never holds the token. */
export interface AuthDecision {
  /** The full method path. */
  readonly method: string;
  readonly allowed: boolean;
  /** The gRPC status code the call ends with when refused; `0` (OK) when allowed. */
  readonly code: status;
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
}

/** Options of {@link createServerAuthInterceptor}. Unknown names are an error, with a suggestion. */
export interface ServerAuthOptions {
  /** The issuer tokens must come from (`iss`, compared exactly), e.g. `'https://auth.example.com'`. Required. */
  issuer: string;
  /** The `aud` this server answers to: a token must name one of them. Required. */
  audience: string | readonly string[];
  /** The issuer's JWKS. Default: the `jwks_uri` of its discovery document (RFC 8414, then OpenID Connect). */
  jwksUri?: string;
  /** JWS algorithms accepted. Default: every asymmetric one jose supports; `none` and HMAC (`HS*`) are refused. */
  algorithms?: readonly string[];
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
  authorize?: (request: AuthorizeRequest) => boolean | Promise<boolean>;
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
}

/** Every option name, for the unknown-name check. */
const optionNames = Object.freeze([
  'issuer',
  'audience',
  'jwksUri',
  'algorithms',
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
] satisfies (keyof ServerAuthOptions)[]);

/** The options, checked, with their defaults filled in. */
export interface ResolvedOptions {
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly jwksUri: URL | undefined;
  readonly algorithms: readonly string[];
  readonly clockToleranceSec: number;
  readonly requireAtJwt: boolean;
  readonly authorize: ServerAuthOptions['authorize'];
  readonly endStreamsAtExpiry: boolean;
  readonly allowInsecureRequests: boolean;
  readonly onDecision: ServerAuthOptions['onDecision'];
  readonly maxTokenBytes: number;
  readonly maxCachedTokens: number;
  readonly jwksRefetchCooldownSec: number;
  readonly requestTimeoutMs: number;
  readonly clock: Clock;
}

const where = 'createServerAuthInterceptor';

/** Checks `options` (the policy is checked by `Policy`). @throws AuthConfigError naming the option. */
export function resolveOptions(options: ServerAuthOptions): ResolvedOptions {
  if (options === undefined) throw new AuthConfigError(`${where} needs options: issuer, audience and methods`);
  checkOptionNames(options, optionNames, `${where} option`);
  const allowInsecureRequests = checkBoolean(options.allowInsecureRequests, `${where}: allowInsecureRequests`) ?? false;
  const issuer = checkNonEmptyString(options.issuer, `${where}: issuer`);
  const jwksUri =
    options.jwksUri === undefined
      ? undefined
      : jwksUrl(
          checkNonEmptyString(options.jwksUri, `${where}: jwksUri`),
          `${where}: jwksUri`,
          allowInsecureRequests,
          authConfigError,
        );
  // Without jwksUri the keys come from the issuer's discovery document: the same URL rules apply.
  if (jwksUri === undefined) jwksUrl(issuer, `${where}: issuer`, allowInsecureRequests, authConfigError);
  return {
    issuer,
    audience: audienceOf(options.audience),
    jwksUri,
    algorithms: algorithmsOf(options.algorithms),
    clockToleranceSec: numberOption(options.clockToleranceSec, 'clockToleranceSec', 30, { min: 0, max: 3600 }),
    requireAtJwt: checkBoolean(options.requireAtJwt, `${where}: requireAtJwt`) ?? false,
    authorize: checkFunction(options.authorize, `${where}: authorize`),
    endStreamsAtExpiry: checkBoolean(options.endStreamsAtExpiry, `${where}: endStreamsAtExpiry`) ?? true,
    allowInsecureRequests,
    onDecision: checkFunction(options.onDecision, `${where}: onDecision`),
    maxTokenBytes: numberOption(options.maxTokenBytes, 'maxTokenBytes', defaultMaxTokenBytes, {
      min: 256,
      max: 1 << 20,
      integer: true,
    }),
    maxCachedTokens: numberOption(options.maxCachedTokens, 'maxCachedTokens', defaultMaxCachedTokens, {
      min: 0,
      max: 10_000_000,
      integer: true,
    }),
    jwksRefetchCooldownSec: numberOption(options.jwksRefetchCooldownSec, 'jwksRefetchCooldownSec', 30, {
      min: 0,
      max: 86_400,
    }),
    requestTimeoutMs: numberOption(options.requestTimeoutMs, 'requestTimeoutMs', 5000, {
      min: 1,
      max: 600_000,
      integer: true,
    }),
    clock: clockOf(options.clock),
  };
}

function audienceOf(value: unknown): readonly string[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (value === undefined || list.length === 0)
    throw new AuthConfigError(
      `${where}: audience is required (a string or an array of strings): without it a token meant for another service would be accepted`,
    );
  return Object.freeze(list.map((entry) => checkNonEmptyString(entry, `${where}: audience`)));
}

function algorithmsOf(value: unknown): readonly string[] {
  if (value === undefined) return asymmetricAlgorithms;
  if (!Array.isArray(value) || value.length === 0)
    throw new AuthConfigError(`${where}: algorithms must be a non-empty array`);
  for (const alg of value) {
    if (typeof alg !== 'string' || !asymmetricAlgorithms.includes(alg)) {
      const shown = typeof alg === 'string' ? JSON.stringify(alg.slice(0, 20)) : typeof alg;
      throw new AuthConfigError(
        `${where}: algorithm ${shown} is not accepted; use asymmetric JWS algorithms (${asymmetricAlgorithms.join(', ')}), never none or HS*`,
      );
    }
  }
  return Object.freeze([...new Set(value as string[])]);
}

function numberOption(
  value: unknown,
  name: string,
  fallback: number,
  range: { min: number; max: number; integer?: boolean },
): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    value >= range.min &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!ok)
    throw new AuthConfigError(
      `${where}: ${name} must be a ${range.integer ? 'whole ' : ''}number from ${range.min} to ${range.max}`,
    );
  return value;
}

function clockOf(value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock>;
  if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function')
    throw new AuthConfigError(`${where}: clock must have now() and setTimeout()`);
  return clock as Clock;
}
