// The public shapes of the mock token server: its options, what it registers, its faults and its log.
import type { CryptoKey, JWK } from 'jose';
import type { MockClientCertificateAuth, MockTlsCertificates } from './mtls-types.js';

/**
 * Client authentication methods the mock server accepts at its token endpoint; the last two (RFC 8705
 * mutual TLS) only with the `tls` option.
 */
export type MockClientAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'tls_client_auth' | 'self_signed_tls_client_auth';

/**
 * What the token endpoint issues as access tokens: `'jwt'`, JWTs signed with the server's key, which a
 * resource server verifies against the JWKS; `'opaque'`, random strings (32 random bytes, base64url)
 * that only the server can read, through its introspection endpoint.
 */
export type MockAccessTokenFormat = 'jwt' | 'opaque';

/** The endpoints of a {@link MockTokenServer} that faults can be queued for; see {@link MockTokenServer.failNext}. */
export type MockFaultEndpoint = 'token' | 'introspection' | 'revocation';

/** Options of {@link MockTokenServer.failNext}. */
export interface MockFaultOptions {
  /** The endpoint whose next requests get the fault. Default `'token'`. */
  endpoint?: MockFaultEndpoint;
}

/** Options of {@link MockTokenServer.start}. */
export interface MockTokenServerOptions {
  /** Lifetime of issued tokens, in seconds. Default 3600. Settable later as `server.tokenLifetimeSec`. */
  tokenLifetimeSec?: number;
  /** Leave `expires_in` out of token answers (the JWT still has `exp`). Default `false`. */
  omitExpiresIn?: boolean;
  /**
   * Where the server reads time (milliseconds since the epoch) for `iat`, `exp`, assertion checks,
   * whether an introspected token has expired, and the `Date` header. Default `Date.now`. Pass the `ManualClock` your code under test uses.
   */
  clock?: {
    /** The current time, in milliseconds since the epoch. */
    now(): number;
  };
  /** `aud` of tokens when the request names no `audience` or `resource`. Default `'https://api.example.test'`. */
  audience?: string;
  /**
   * Format of the access tokens issued, unless a client's own `accessTokenFormat` says otherwise:
   * `'jwt'` or `'opaque'` (see {@link MockAccessTokenFormat}). Both formats can be introspected.
   * Default `'jwt'`.
   */
  accessTokenFormat?: MockAccessTokenFormat;
  /** Algorithm of the token signing key. Default `'RS256'`. */
  signingAlg?: 'RS256' | 'ES256';
  /**
   * Which discovery documents the issuer serves; the other well-known path answers 404. `'oauth'`:
   * only RFC 8414's `/.well-known/oauth-authorization-server`, as an OAuth-only issuer does.
   * `'oidc'`: only `/.well-known/openid-configuration`. `'none'`: neither, for an issuer whose
   * discovery fails. Default `'both'`.
   */
  discovery?: MockDiscovery;
  /** Port to listen on, on 127.0.0.1. Default 0: a free port (read it from `issuer`). */
  port?: number;
  /**
   * Serve HTTPS with mutual TLS (RFC 8705) instead of plain HTTP: pass `await createTestCertificates()`
   * as is, or {@link MockTlsCertificates} of your own. See {@link MockTlsCertificates} for what changes.
   * Default: plain HTTP, no mutual TLS.
   */
  tls?: MockTlsCertificates;
  /**
   * Require a server nonce in DPoP proofs (RFC 9449 §8): a proof without the current nonce gets
   * `400 use_dpop_nonce` with the nonce in a `DPoP-Nonce` header, as openid-client's DPoP handle
   * expects (it retries once with the nonce). Rotate it with `server.rotateDpopNonce()`, which also
   * turns the requirement on. Default `false`.
   */
  dpopNonce?: boolean;
}

/** Which discovery documents a {@link MockTokenServer} serves; see {@link MockTokenServerOptions.discovery}. */
export type MockDiscovery = 'both' | 'oauth' | 'oidc' | 'none';

/** What of a token request an `echo` fault sends back; see {@link TokenServerFault}. */
export type MockEchoPart = 'authorization' | 'body' | 'secret' | 'assertion';

/** Where in its answer an `echo` fault puts what it sends back; see {@link TokenServerFault}. */
export type MockEchoPlace = 'error' | 'error_description' | 'www-authenticate';

/**
 * A client of the client-credentials grant; see {@link MockTokenServer.addClient}. Its mutual TLS
 * fields (for a server started with `tls`) are those of {@link MockClientCertificateAuth}.
 */
export interface MockClient extends MockClientCertificateAuth {
  /** The `client_id`. */
  readonly clientId: string;
  /** Secret for `client_secret_basic` and `client_secret_post`. */
  readonly clientSecret?: string;
  /**
   * Key that verifies this client's `private_key_jwt` assertions: a JWK, a PEM (SPKI public key or
   * X.509 certificate) or a CryptoKey. A private key is accepted too; only its public half is kept.
   */
  readonly publicKey?: JWK | CryptoKey | string;
  /** Scopes this client may get. Default: any scope. */
  readonly allowedScopes?: readonly string[];
  /** Methods this client may authenticate with. Default: those its credentials allow. */
  readonly authMethods?: readonly MockClientAuthMethod[];
  /**
   * Trust a JWT someone else signs as this client's assertion (workload identity federation, as
   * Entra's federated credentials do): a Kubernetes service-account token or a CI provider's OIDC
   * token with this `iss` and `sub`, sent as `client_assertion`. Enables `private_key_jwt`.
   */
  readonly federatedCredential?: MockFederatedCredential;
  /** Format of the access tokens this client gets: `'jwt'` or `'opaque'`. Default: the server's `accessTokenFormat`. */
  readonly accessTokenFormat?: MockAccessTokenFormat;
  /**
   * RFC 9449 §5.2's `dpop_bound_access_tokens`: this client's token requests must carry a DPoP proof;
   * one without gets `400 invalid_dpop_proof`. Default `false`: a request with a proof gets a
   * DPoP-bound token, one without a Bearer token.
   */
  readonly dpopBoundAccessTokens?: boolean;
}

/** A JWT issuer the mock trusts (a Kubernetes cluster, a SPIFFE trust domain, a CI provider); see {@link MockTokenServer.addSubjectTokenIssuer}. */
export interface MockTrustedIssuer {
  /** The `iss` of its JWTs. */
  readonly issuer: string;
  /** Its public key: a JWK, a PEM (SPKI or X.509 certificate) or a CryptoKey (a private key is accepted; only its public half is kept). */
  readonly publicKey: JWK | CryptoKey | string;
  /** The `aud` its JWTs must carry. Default: the mock's issuer or token endpoint. */
  readonly audience?: string;
}

/** A federated credential of a client: JWTs from `issuer` about `subject`; see {@link MockClient.federatedCredential}. */
export interface MockFederatedCredential extends MockTrustedIssuer {
  /** The `sub` its JWTs must carry, e.g. `'system:serviceaccount:shop:orders'`. */
  readonly subject: string;
}

/** A service account of the JWT-bearer grant (RFC 7523), as with a Google-format key file. */
export interface MockServiceAccount {
  /** The key file's `client_email`: the `iss` of its assertions. */
  readonly clientEmail: string;
  /** Key matching the key file's private key: a JWK, a PEM (SPKI or X.509 certificate) or a CryptoKey. */
  readonly publicKey: JWK | CryptoKey | string;
  /** Scopes this account may get. Default: any scope. */
  readonly allowedScopes?: readonly string[];
}

/**
 * What the next requests to an endpoint (the token endpoint unless {@link MockFaultOptions.endpoint}
 * names another) get instead of a normal answer; see {@link MockTokenServer.failNext}.
 */
export type TokenServerFault =
  /**
   * That HTTP status, with an OAuth JSON error body `{ error, error_description }` when `error` is
   * set (plain text otherwise) and `Retry-After` when `retryAfter` is (seconds or an HTTP date).
   * `wwwAuthenticate` adds `WWW-Authenticate: Basic realm="mock", error="..."`; default: when the
   * status is 401.
   */
  | {
      readonly type: 'error';
      readonly status: number;
      readonly error?: string;
      readonly errorDescription?: string;
      readonly retryAfter?: string | number;
      readonly wwwAuthenticate?: boolean;
    }
  /** The normal answer, `ms` milliseconds late. */
  | { readonly type: 'delay'; readonly ms: number }
  /** Read the request, never answer (until `close()`). */
  | { readonly type: 'hang' }
  /** Send 200 headers, then nothing more (slow loris) until `close()`. */
  | { readonly type: 'hang-after-headers' }
  /** Drop the connection without an answer. */
  | { readonly type: 'reset' }
  /** Send 200 headers and part of a JSON body, then drop the connection. */
  | { readonly type: 'reset-mid-body' }
  /**
   * This raw answer: malformed JSON, wrong types, huge bodies, redirects... `status` defaults to 200,
   * `contentType` to `'application/json'`; `headers` are added last and override those and `Date`,
   * whatever the letter case of their names.
   */
  | {
      readonly type: 'body';
      readonly status?: number;
      readonly contentType?: string;
      readonly body: string | Buffer;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** An HTML error page (`text/html`), as a proxy in front of a broken server sends. Default status 502. */
  | { readonly type: 'html'; readonly status?: number }
  /**
   * The normal answer, after the normal checks of the client (a wrong secret still gets 401), with
   * a token shaped differently from the server's settings, to test how a client picks the expiry.
   * Token endpoint only.
   */
  | {
      readonly type: 'token';
      /** `exp - iat` of the token (JWT or opaque), in seconds; 0 or negative makes it already expired. Default: `tokenLifetimeSec`. */
      readonly jwtLifetimeSec?: number;
      /** `expires_in` of the answer, in seconds, independent of the JWT. Default: `tokenLifetimeSec`, or none under the server's `omitExpiresIn`. */
      readonly expiresInSec?: number;
      /** Leave `expires_in` out (`true`) or put it in (`false`) whatever the server does. Excludes `expiresInSec`. */
      readonly omitExpiresIn?: boolean;
      /** Headers added last, overriding the defaults whatever their letter case; e.g. a `Date` hours behind. */
      readonly headers?: Readonly<Record<string, string>>;
      /**
       * `issued_token_type` of a token-exchange answer (RFC 8693 §2.2.1), e.g.
       * `'urn:ietf:params:oauth:token-type:refresh_token'`, to test a client that must refuse the wrong
       * kind of token; the token itself is the usual access token. Default: `...:token-type:access_token`.
       */
      readonly issuedTokenType?: string;
    }
  /**
   * An error answer that sends back what the request carried, as a hostile or careless server may,
   * to test that a client redacts every encoding of its secret. The `parts` found in the request are
   * joined by a space, in the order given, and put `into` each place named: the JSON body's `error`
   * and `error_description`, and `WWW-Authenticate: Basic realm="mock", error="…", error_description="…"`
   * (quoted; a value with a line break or a character outside Latin-1 cannot be a header, and the mock
   * then answers 500). Where `error` is not echoed it is `invalid_client` on 401, else `invalid_request`.
   */
  | {
      readonly type: 'echo';
      /**
       * What to send back: `'authorization'`, the `Authorization` header as sent (`Basic <base64>`);
       * `'body'`, the request body as sent, still form-encoded; `'secret'`, the client secret as the
       * server decoded it (from Basic or `client_secret`); `'assertion'`, `client_assertion` or the
       * JWT-bearer `assertion`. Default: all four.
       */
      readonly parts?: readonly MockEchoPart[];
      /** Where to put it. Default: all three places. */
      readonly into?: readonly MockEchoPlace[];
      /** HTTP status. Default 401. */
      readonly status?: number;
    };

/**
 * One request as the server saw it, at any endpoint. It never holds a secret, assertion, `Authorization`
 * header or token (an introspected or revoked one included).
 */
export interface MockRequestLogEntry {
  /** When the request arrived, on the server's clock. */
  readonly time: Date;
  readonly method: string;
  /** Path without the query. */
  readonly path: string;
  readonly grantType?: string;
  /** The client id or service-account email the request claimed, verified or not. */
  readonly clientId?: string;
  /** How the client authenticated; `'none'` for the JWT-bearer grant. */
  readonly authMethod?: MockClientAuthMethod | 'none';
  /** Scopes asked for, space-separated (for the JWT-bearer grant, those in the assertion). */
  readonly scope?: string;
  readonly audience?: string;
  /** `resource` parameters, space-separated. */
  readonly resource?: string;
  /** Token exchange: the `subject_token_type` sent. */
  readonly subjectTokenType?: string;
  /** Token exchange: the verified `sub` of the subject token. */
  readonly subject?: string;
  /** Token exchange: the `actor_token_type` sent, if any. */
  readonly actorTokenType?: string;
  /** base64url SHA-256 of the client certificate the connection presented (verified or not), if any. */
  readonly certificateSha256?: string;
  /** `true` when the request came to the `mtls_endpoint_aliases` listener (HTTPS mode). */
  readonly mtlsAlias?: true;
  /** `true` when the request carried a `DPoP` header (RFC 9449), valid or not. The proof itself is never logged. */
  readonly dpop?: true;
  /** base64url RFC 7638 SHA-256 thumbprint of the key whose signature the DPoP proof carries, once it verified. */
  readonly dpopJkt?: string;
  /** Introspection and revocation: the `token_type_hint` sent, if any. */
  readonly tokenTypeHint?: string;
  /** Introspection: whether the answer said the token is active; unset when no answer was given. */
  readonly active?: boolean;
  /** Status of the answer; unset until a whole answer was sent, so unset for `hang`, `reset`, ... */
  readonly status?: number;
  /** The type of the injected fault that answered, if one did. */
  readonly fault?: TokenServerFault['type'];
}

/** The log entry of the request being handled, filled in as handling learns more. @internal */
export type LogEntry = { -readonly [K in keyof MockRequestLogEntry]: MockRequestLogEntry[K] };
