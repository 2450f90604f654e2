// The grants the token endpoint serves (client credentials, RFC 7523 JWT bearer, RFC 8693 token exchange): who may get
// a token, with which scopes (token-issuer.ts issues it).
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { JWTPayload } from 'jose';
import { unverifiedClaims, verifierOf, type AssertionVerifier } from './assertions.js';
import type { ClientRegistry, RegisteredClient } from './client-auth.js';
import { OAuthFailure } from './http.js';
import { issuedTokenType, tokenExchangeGrant, type SubjectTokenIssuers } from './token-exchange.js';
import type { TokenIssuer, TokenShape } from './token-issuer.js';
import type { LogEntry, MockServiceAccount } from './types.js';

/** The `grant_type` of RFC 7523 §2.1. */
export const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Every grant type, in the order discovery lists them. */
export const grantTypes: readonly string[] = ['client_credentials', jwtBearerGrant, tokenExchangeGrant];
/** Longest life of a JWT-bearer assertion (`exp - iat`), in seconds, as Google's token endpoint allows. */
const maxAssertionLifetimeSec = 3600;

/** A service account as the server keeps it. */
export interface RegisteredAccount {
  readonly clientEmail: string;
  readonly verifyKey: KeyObject;
  readonly verifyAlgorithms?: string[];
  readonly allowedScopes?: readonly string[];
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

/**
 * Runs the grant `body` asks for and resolves with the token answer; rejects with an {@link OAuthFailure}.
 * @param dpopJkt - the thumbprint of the key of the request's verified DPoP proof, if it had one: the
 * token is bound to it (`cnf.jkt`) and its type is `DPoP`.
 */
export async function grantToken(
  parties: GrantParties,
  req: IncomingMessage,
  body: URLSearchParams,
  entry: LogEntry,
  shape: TokenShape,
  dpopJkt: string | undefined,
): Promise<Record<string, unknown>> {
  const answer = await grant(parties, { req, body, entry, shape, dpopJkt });
  return dpopJkt === undefined ? answer : { ...answer, token_type: 'DPoP' };
}

/** One token request, its proof checked. */
interface GrantRequest {
  readonly req: IncomingMessage;
  readonly body: URLSearchParams;
  readonly entry: LogEntry;
  readonly shape: TokenShape;
  readonly dpopJkt: string | undefined;
}

async function grant(parties: GrantParties, request: GrantRequest): Promise<Record<string, unknown>> {
  const { req, body, entry, shape } = request;
  const grantType = body.get('grant_type');
  if (grantType === 'client_credentials') {
    const client = await parties.clients.authenticate(req, body, entry);
    const scopes = grantedScopes(body.get('scope'), client.allowedScopes);
    const claims = binding(parties, request, client);
    return parties.issuer.issue(client.clientId, scopes, body, shape, { format: client.accessTokenFormat, claims });
  }
  if (grantType === jwtBearerGrant) {
    entry.authMethod = 'none';
    const { account, scope } = await parties.accounts.verify(body, entry);
    const scopes = grantedScopes(scope, account.allowedScopes);
    return parties.issuer.issue(account.clientEmail, scopes, body, shape, {
      claims: binding(parties, request, undefined),
    });
  }
  if (grantType === tokenExchangeGrant) {
    const client = await authenticateIfPresent(parties.clients, req, body, entry);
    const { subject, actor } = await parties.subjectIssuers.verify(body, entry);
    const claims = { ...(actor === undefined ? {} : { act: { sub: actor } }), ...binding(parties, request, client) };
    const answer = await parties.issuer.issue(
      subject,
      grantedScopes(body.get('scope'), client?.allowedScopes),
      body,
      shape,
      { clientId: client?.clientId, claims, format: client?.accessTokenFormat },
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

/**
 * The `cnf` claim of a token `client` gets: bound to the certificate of the connection (RFC 8705 §3)
 * and to the DPoP proof's key (RFC 9449 §6.1), or no claim. A client registered with
 * `dpopBoundAccessTokens` gets `invalid_dpop_proof` without a proof.
 */
function binding(parties: GrantParties, request: GrantRequest, client: RegisteredClient | undefined): JWTPayload {
  const { dpopJkt } = request;
  if (client?.dpopBoundAccessTokens === true && dpopJkt === undefined)
    throw new OAuthFailure(400, 'invalid_dpop_proof', 'this client must send a DPoP proof');
  const thumbprint = parties.clients.boundThumbprint(request.req, client);
  const cnf = {
    ...(thumbprint === undefined ? {} : { 'x5t#S256': thumbprint }),
    ...(dpopJkt === undefined ? {} : { jkt: dpopJkt }),
  };
  return Object.keys(cnf).length === 0 ? {} : { cnf };
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
