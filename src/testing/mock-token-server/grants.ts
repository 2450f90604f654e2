// The grants the token endpoint serves (client credentials, RFC 7523 JWT bearer, RFC 8693 token exchange) and the access
// tokens it issues for them.
import { randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { unverifiedClaims, verifierOf, type AssertionVerifier } from './assertions.js';
import type { ClientRegistry, RegisteredClient } from './client-auth.js';
import { OAuthFailure, type Clock } from './http.js';
import { issuedTokenType, tokenExchangeGrant, type SubjectTokenIssuers } from './token-exchange.js';
import type { LogEntry, MockServiceAccount } from './types.js';

/** The `grant_type` of RFC 7523 §2.1. */
export const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Every grant type, in the order discovery lists them. */
export const grantTypes: readonly string[] = ['client_credentials', jwtBearerGrant, tokenExchangeGrant];
/** `aud` of tokens whose request names no `audience` or `resource`, unless the server's `audience` option says otherwise. */
export const defaultTokenAudience = 'https://api.example.test';
/** Longest life of a JWT-bearer assertion (`exp - iat`), in seconds, as Google's token endpoint allows. */
const maxAssertionLifetimeSec = 3600;

/** A service account as the server keeps it. */
export interface RegisteredAccount {
  readonly clientEmail: string;
  readonly verifyKey: KeyObject;
  readonly verifyAlgorithms?: string[];
  readonly allowedScopes?: readonly string[];
}

/** How one token answer is shaped; the server's settings, unless a fault changes them. */
export interface TokenShape {
  /** `exp - iat` of the JWT, in seconds. */
  readonly jwtLifetimeSec: number;
  /** `expires_in` of the answer, in seconds; `undefined` leaves it out. */
  readonly expiresInSec: number | undefined;
  /** `issued_token_type` of a token-exchange answer; `undefined`: an access token's. */
  readonly issuedTokenType?: string;
}

/** A token signing key, and its public half as the JWKS endpoint serves it (with `kid`, `alg` and `use`). */
export interface SigningKey {
  readonly signingKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** A fresh signing key for `alg`, with a random `kid`. */
export async function generateSigningKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { signingKey: privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid: randomUUID(), alg, use: 'sig' } };
}

/** Signs the access tokens: JWTs (RFC 9068 `at+jwt`) with `iss`, `sub`, `aud`, `scope`, `client_id`, `iat`, `exp`, `jti`. */
export class TokenIssuer {
  readonly #issuer: string;
  readonly #defaultAudience: string;
  #key: SigningKey;
  readonly #clock: Clock;
  #issued = 0;

  constructor(options: { issuer: string; defaultAudience: string | undefined; key: SigningKey; clock: Clock }) {
    this.#issuer = options.issuer;
    this.#defaultAudience = options.defaultAudience ?? defaultTokenAudience;
    this.#key = options.key;
    this.#clock = options.clock;
  }

  /** The public signing keys, as the JWKS endpoint serves them. */
  get jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.#key.publicJwk }] };
  }

  /** Signs with `key` from now on, and serves only it. */
  rotate(key: SigningKey): void {
    this.#key = key;
  }

  /** Access tokens issued so far. */
  get issuedCount(): number {
    return this.#issued;
  }

  /** The token answer (RFC 6749 §5.1) for `subject` with `scopes`, its audience from the request's `resource` or `audience`. */
  async issue(
    subject: string,
    scopes: readonly string[],
    body: URLSearchParams,
    shape: TokenShape,
    extra: { readonly clientId?: string; readonly claims?: JWTPayload } = {},
  ): Promise<Record<string, unknown>> {
    const nowSec = Math.floor(this.#clock.now() / 1000);
    const resources = body.getAll('resource');
    // RFC 8707: several resources make an audience of several.
    const audience = resources.length > 1 ? resources : (resources[0] ?? body.get('audience') ?? this.#defaultAudience);
    const scope = scopes.join(' ');
    const accessToken = await new SignJWT({ ...extra.claims, scope, client_id: extra.clientId ?? subject })
      .setProtectedHeader({ alg: this.#key.publicJwk.alg!, kid: this.#key.publicJwk.kid!, typ: 'at+jwt' })
      .setIssuer(this.#issuer)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + shape.jwtLifetimeSec)
      .setJti(randomUUID())
      .sign(this.#key.signingKey);
    this.#issued++;
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: shape.expiresInSec,
      scope: scope || undefined,
    };
  }
}

/** The registered service accounts of the JWT-bearer grant, and the check of their assertions. */
export class ServiceAccountRegistry {
  readonly #accounts = new Map<string, RegisteredAccount>();
  readonly #assertions: AssertionVerifier;

  constructor(assertions: AssertionVerifier) {
    this.#assertions = assertions;
  }

  /** Adds `account`, replacing one with the same email. */
  add(account: MockServiceAccount): void {
    this.#accounts.set(account.clientEmail, {
      clientEmail: account.clientEmail,
      ...verifierOf(account.publicKey),
      allowedScopes: account.allowedScopes && [...account.allowedScopes],
    });
  }

  /** Every registered account. */
  values(): IterableIterator<RegisteredAccount> {
    return this.#accounts.values();
  }

  /** The account whose signed assertion `body` carries, and the scope it asks for; `invalid_grant` otherwise. */
  async verify(body: URLSearchParams, entry: LogEntry): Promise<{ account: RegisteredAccount; scope: string | null }> {
    const assertion = body.get('assertion') ?? '';
    const claimedEmail = unverifiedClaims(assertion)?.iss;
    if (claimedEmail !== undefined) entry.clientId = claimedEmail;
    const account = claimedEmail === undefined ? undefined : this.#accounts.get(claimedEmail);
    if (account === undefined) throw new OAuthFailure(400, 'invalid_grant', 'unknown service account');
    let payload: JWTPayload;
    try {
      payload = await this.#assertions.verify(assertion, account.verifyKey, account.verifyAlgorithms, {
        issuer: account.clientEmail,
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: maxAssertionLifetimeSec,
      });
    } catch {
      throw new OAuthFailure(400, 'invalid_grant', 'assertion is invalid');
    }
    if (payload.exp! - payload.iat! > maxAssertionLifetimeSec) {
      throw new OAuthFailure(400, 'invalid_grant', `assertion lives longer than ${maxAssertionLifetimeSec} s`);
    }
    const scope = typeof payload.scope === 'string' ? payload.scope : body.get('scope');
    if (scope) entry.scope = scope;
    return { account, scope };
  }
}

/** Who may ask for tokens and who signs them: what {@link grantToken} needs. */
export interface GrantParties {
  readonly clients: ClientRegistry;
  readonly accounts: ServiceAccountRegistry;
  readonly issuer: TokenIssuer;
  readonly subjectIssuers: SubjectTokenIssuers;
}

/** Runs the grant `body` asks for and resolves with the token answer; rejects with an {@link OAuthFailure}. */
export async function grantToken(
  parties: GrantParties,
  req: IncomingMessage,
  body: URLSearchParams,
  entry: LogEntry,
  shape: TokenShape,
): Promise<Record<string, unknown>> {
  const grantType = body.get('grant_type');
  if (grantType === 'client_credentials') {
    const client = await parties.clients.authenticate(req, body, entry);
    return parties.issuer.issue(client.clientId, grantedScopes(body.get('scope'), client.allowedScopes), body, shape);
  }
  if (grantType === jwtBearerGrant) {
    entry.authMethod = 'none';
    const { account, scope } = await parties.accounts.verify(body, entry);
    return parties.issuer.issue(account.clientEmail, grantedScopes(scope, account.allowedScopes), body, shape);
  }
  if (grantType === tokenExchangeGrant) {
    const client = await authenticateIfPresent(parties.clients, req, body, entry);
    const { subject, actor } = await parties.subjectIssuers.verify(body, entry);
    const claims = actor === undefined ? undefined : { act: { sub: actor } };
    const answer = await parties.issuer.issue(
      subject,
      grantedScopes(body.get('scope'), client?.allowedScopes),
      body,
      shape,
      { clientId: client?.clientId, claims },
    );
    return { ...answer, issued_token_type: shape.issuedTokenType ?? issuedTokenType };
  }
  if (grantType === null) throw new OAuthFailure(400, 'invalid_request', 'grant_type is missing');
  throw new OAuthFailure(
    400,
    'unsupported_grant_type',
    'this server supports client_credentials, jwt-bearer and token-exchange',
  );
}

/** RFC 8693 §2.1 leaves client authentication to the server: a client that presents credentials must pass; a public one may exchange. */
async function authenticateIfPresent(
  clients: ClientRegistry,
  req: IncomingMessage,
  body: URLSearchParams,
  entry: LogEntry,
): Promise<RegisteredClient | undefined> {
  if (req.headers.authorization !== undefined || body.has('client_assertion') || body.has('client_secret'))
    return clients.authenticate(req, body, entry);
  entry.authMethod = 'none';
  if (body.has('client_id')) entry.clientId = body.get('client_id')!;
  return undefined;
}

/** The scopes to grant: those asked for, or all allowed ones; `invalid_scope` for any not allowed. */
function grantedScopes(requested: string | null, allowed: readonly string[] | undefined): readonly string[] {
  const asked = requested?.split(' ').filter(Boolean) ?? [];
  if (asked.length === 0) return allowed ?? [];
  const refused = allowed === undefined ? [] : asked.filter((scope) => !allowed.includes(scope));
  if (refused.length > 0)
    throw new OAuthFailure(400, 'invalid_scope', `scope not allowed for this client: ${refused.join(' ')}`);
  return [...new Set(asked)];
}

/** Every scope some registered client or service account may get, for the discovery document. */
export function advertisedScopes(parties: GrantParties): Set<string> {
  const scopes = new Set<string>();
  for (const { allowedScopes } of [...parties.clients.values(), ...parties.accounts.values()]) {
    for (const scope of allowedScopes ?? []) scopes.add(scope);
  }
  return scopes;
}
