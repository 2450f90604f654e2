// What the bench process and the auth server process (main.ts) say to each other over the fork()
// IPC channel, and the interceptor variants the server can switch between.
import type { ProfileKind } from '../lib/profiles.js';

/**
 * The server interceptor variants, each installed in turn on the one grpc-js server (variants.ts
 * builds them). To add one, name it here, give its token kind in {@link tokenKindOf} and build it in
 * variants.ts; a figure then compares it (figures/server-cpu.ts).
 */
export const serverVariants = [
  /** The baseline: an interceptor that forwards everything. */
  'passThrough',
  /** The same again, as a second variant: the A/A row, how far apart one thing measures. */
  'passThroughTwin',
  /** `createServerAuthInterceptor` with its verified-token cache (the default). */
  'sdkCached',
  /** The same with `maxCachedTokens: 0`: every call verifies the signature. */
  'sdkUncached',
  /** What a user writes instead: jose `createRemoteJWKSet` + `jwtVerify` per call (peers/diy-server.ts). */
  'diy',
  /** The SDK with an opaque token whose introspection answer is cached, compared with 'sdkCached'. */
  'sdkOpaqueCached',
  /**
   * The same interceptor under a flood: every call carries a new made-up opaque token, which the
   * issuer's introspection calls inactive (or the in-flight cap refuses): every call is refused.
   */
  'sdkOpaqueFlood',
  /**
   * `createServerAuthInterceptor` as 'sdkCached', on the mutual-TLS port (its calls' auth context read
   * once per connection), with a token that is not bound to a certificate: no binding check.
   */
  'sdkMtlsUnbound',
  /**
   * The same options on the same mutual-TLS connection, with a token whose `cnf['x5t#S256']` is the
   * bench client's certificate thumbprint: the binding check on every call, and nothing else differs.
   */
  'sdkMtlsBound',
  /** The pass-through interceptor on the mutual-TLS connection: the reference of 'authzPolicy50'. */
  'passThroughMtls',
  /**
   * `createAuthorizationPolicyInterceptor` with a 50-rule A43 policy (authz-policy.ts) on the same
   * mutual-TLS connection, whose client certificate only the last allow rule admits.
   */
  'authzPolicy50',
  /**
   * The same interceptor with a one-rule policy (one empty allow rule, no principals): what taking the
   * decision at the call's metadata costs, apart from the 50 rules.
   */
  'authzPolicy1',
] as const;

/** Variants whose calls are all refused (no handler runs): their CPU is per call made, not per call answered. */
export const refusedVariants: ReadonlySet<ServerVariant> = new Set(['sdkOpaqueFlood']);
export type ServerVariant = (typeof serverVariants)[number];

/**
 * The kind of access token a call to each variant carries: `boundJwt` is a JWT for the same resource
 * as `jwt`, bound to the bench client's certificate (RFC 8705).
 */
export type TokenKind = 'jwt' | 'opaque' | 'boundJwt';

export function tokenKindOf(variant: ServerVariant): TokenKind {
  switch (variant) {
    case 'sdkOpaqueCached':
    case 'sdkOpaqueFlood':
      return 'opaque';
    case 'sdkMtlsBound':
      return 'boundJwt';
    default:
      return 'jwt';
  }
}

/** The connection a variant's calls take: TLS, or mutual TLS with the bench client's certificate. */
export type Transport = 'tls' | 'mtls';

export function transportOf(variant: ServerVariant): Transport {
  const mutual: readonly ServerVariant[] = [
    'sdkMtlsUnbound',
    'sdkMtlsBound',
    'passThroughMtls',
    'authzPolicy50',
    'authzPolicy1',
  ];
  return mutual.includes(variant) ? 'mtls' : 'tls';
}

/** The one client registered with the issuer, and the scope its tokens carry. */
export const issuerClient = {
  clientId: 'bench-server-client',
  clientSecret: 'bench-server-client-secret',
  /** The same client's second registration, whose tokens the issuer binds to its TLS client certificate. */
  boundClientId: 'bench-server-bound-client',
  scope: 'orders.read',
} as const;

/** What the server process is started with (its one argument, as JSON). */
export interface AuthServerStart {
  /** The issuer URL tokens must come from; its discovery document gives the JWKS. */
  readonly issuer: string;
  /** The `aud` of its JWT access tokens. */
  readonly audience: string;
  /** The `aud` of its opaque access tokens (another resource), in their introspection answers. */
  readonly opaqueAudience: string;
  /**
   * The gRPC server's certificate, key and the CA that signed it and the bench client's certificate,
   * as files (the key not on the command line).
   */
  readonly tlsFiles: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

/** Sent once by the server process when the gRPC server listens. */
export interface AuthServerReady {
  readonly type: 'ready';
  /** `127.0.0.1:<port>` of the TLS gRPC server. */
  readonly grpcAddress: string;
  /** `127.0.0.1:<port>` of the same server's mutual-TLS port, which asks for a client certificate and verifies it. */
  readonly mtlsAddress: string;
}

export type AuthServerCommand =
  /** Installs `variant` and starts counting: CPU time, bytes allocated, calls that reached the handler. */
  | {
      readonly type: 'begin';
      readonly variant: ServerVariant;
      /** Also profile the round (bench/lib/profiles.ts), written to `file` at `end`. */
      readonly profile?: { readonly kind: ProfileKind; readonly file: string };
    }
  /** Stops counting and answers with a {@link RoundCount}. */
  | { readonly type: 'end' }
  | { readonly type: 'stop' };

export interface AuthServerRequest {
  readonly id: number;
  readonly command: AuthServerCommand;
}

/** What the server process counted over a round. */
export interface RoundCount {
  /** Its CPU time, user + system, in µs. */
  readonly cpuMicros: number;
  /** Bytes allocated on its JavaScript heap (bench/lib/allocation.ts). */
  readonly allocatedBytes: number;
  /** Of `cpuMicros`, the garbage collections' time on the main thread. */
  readonly gcMicros: number;
  /** Calls its handler answered. */
  readonly calls: number;
}

export interface AuthServerReply {
  readonly type: 'reply';
  readonly id: number;
  /** For `end`; `undefined` otherwise. */
  readonly count: RoundCount | undefined;
}
