// The public shapes of the mock token server: its options, what it registers, its faults and its log.
import type { CryptoKey, JWK } from 'jose';

/** Client authentication methods the mock server accepts at its token endpoint. */
export type MockClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** Options of {@link MockTokenServer.start}. */
export interface MockTokenServerOptions {
  /** Lifetime of issued tokens, in seconds. Default 3600. Settable later as `server.tokenLifetimeSec`. */
  tokenLifetimeSec?: number;
  /** Leave `expires_in` out of token answers (the JWT still has `exp`). Default `false`. */
  omitExpiresIn?: boolean;
  /**
   * Where the server reads time (milliseconds since the epoch) for `iat`, `exp`, assertion checks and
   * the `Date` header. Default `Date.now`. Pass the `ManualClock` your code under test uses.
   */
  clock?: { now(): number };
  /** `aud` of tokens when the request names no `audience` or `resource`. Default `'https://api.example.test'`. */
  audience?: string;
  /** Algorithm of the token signing key. Default `'RS256'`. */
  signingAlg?: 'RS256' | 'ES256';
}

/** A client of the client-credentials grant; see {@link MockTokenServer.addClient}. */
export interface MockClient {
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

/** What the next token requests get instead of a normal answer; see {@link MockTokenServer.failNext}. */
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
   * `contentType` to `'application/json'`; `headers` are added last and may override both.
   */
  | {
      readonly type: 'body';
      readonly status?: number;
      readonly contentType?: string;
      readonly body: string | Buffer;
      readonly headers?: Readonly<Record<string, string>>;
    }
  /** An HTML error page (`text/html`), as a proxy in front of a broken server sends. Default status 502. */
  | { readonly type: 'html'; readonly status?: number };

/** One request as the server saw it. It never holds a secret, assertion, `Authorization` header or token. */
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
  /** Status of the answer; unset until a whole answer was sent, so unset for `hang`, `reset`, ... */
  readonly status?: number;
  /** The type of the injected fault that answered, if one did. */
  readonly fault?: TokenServerFault['type'];
}

/** The log entry of the request being handled, filled in as handling learns more. @internal */
export type LogEntry = { -readonly [K in keyof MockRequestLogEntry]: MockRequestLogEntry[K] };
