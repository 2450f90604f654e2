// Client authentication at the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2): who the registered
// clients are, and which of them a request proves to be.
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { unverifiedClaims, verifierOf, type AssertionVerifier } from './assertions.js';
import { OAuthFailure, type Clock } from './http.js';
import {
  authenticateByCertificate,
  boundThumbprint,
  isMtlsMethod,
  mtlsMethods,
  mtlsRegistrationOf,
  presentedCertificate,
  type MtlsRegistration,
} from './mtls-client-auth.js';
import type { LogEntry, MockAccessTokenFormat, MockClient, MockClientAuthMethod } from './types.js';

/** A federated credential as the server keeps it. */
export interface TrustedJwtIssuer {
  readonly issuer: string;
  readonly audience?: string;
  readonly verifyKey: KeyObject;
  readonly verifyAlgorithms?: string[];
}

/** Every client authentication method, in the order discovery lists them (the mutual TLS ones only in HTTPS mode). */
export const clientAuthMethods: readonly MockClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  ...mtlsMethods,
];
const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** A client as the server keeps it: a verify key instead of whatever form of key it was given. */
export interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly verifyKey?: KeyObject;
  readonly verifyAlgorithms?: string[];
  readonly allowedScopes?: readonly string[];
  readonly authMethods: readonly MockClientAuthMethod[];
  readonly federated?: TrustedJwtIssuer & { readonly subject: string };
  readonly accessTokenFormat?: MockAccessTokenFormat;
  /** Its mutual TLS registration (RFC 8705). */
  readonly mtls: MtlsRegistration;
  /** Whether its token requests must carry a DPoP proof (RFC 9449 §5.2). */
  readonly dpopBoundAccessTokens: boolean;
}

/** The registered clients of the client-credentials grant, and the check of a request's client authentication. */
export class ClientRegistry {
  readonly #clients = new Map<string, RegisteredClient>();
  /** `client_id` and `jti` of every client assertion accepted, to refuse replays. */
  readonly #usedAssertionIds = new Set<string>();
  readonly #assertions: AssertionVerifier;
  readonly #clock: Clock;

  constructor(assertions: AssertionVerifier, clock: Clock) {
    this.#assertions = assertions;
    this.#clock = clock;
  }

  /** Adds `client`, replacing one with the same id. */
  add(client: MockClient): void {
    const allowed: MockClientAuthMethod[] = [];
    if (client.clientSecret !== undefined) allowed.push('client_secret_basic', 'client_secret_post');
    if (client.publicKey !== undefined || client.federatedCredential !== undefined) allowed.push('private_key_jwt');
    const { registration, methods } = mtlsRegistrationOf(client);
    allowed.push(...methods);
    const verifier = client.publicKey === undefined ? undefined : verifierOf(client.publicKey);
    const federated = client.federatedCredential;
    this.#clients.set(client.clientId, {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      verifyKey: verifier?.verifyKey,
      verifyAlgorithms: verifier?.verifyAlgorithms,
      allowedScopes: client.allowedScopes && [...client.allowedScopes],
      authMethods: client.authMethods ? [...client.authMethods] : allowed,
      federated: federated && {
        issuer: federated.issuer,
        subject: federated.subject,
        audience: federated.audience,
        ...verifierOf(federated.publicKey),
      },
      accessTokenFormat: client.accessTokenFormat,
      mtls: registration,
      dpopBoundAccessTokens: client.dpopBoundAccessTokens ?? false,
    });
  }

  /** Every registered client. */
  values(): IterableIterator<RegisteredClient> {
    return this.#clients.values();
  }

  /** The client `req` authenticates as, with exactly one method (RFC 6749 §2.3); an `invalid_client` failure otherwise. */
  async authenticate(req: IncomingMessage, body: URLSearchParams, entry: LogEntry): Promise<RegisteredClient> {
    const basic = parseBasic(req.headers.authorization);
    const usesAssertion = body.has('client_assertion') || body.has('client_assertion_type');
    const usesPostSecret = body.has('client_secret');
    if ([basic !== undefined, usesAssertion, usesPostSecret].filter(Boolean).length > 1) {
      throw new OAuthFailure(
        400,
        'invalid_request',
        'use exactly one client authentication method',
        basic !== undefined,
      );
    }
    let client: RegisteredClient;
    if (basic !== undefined) {
      entry.authMethod = 'client_secret_basic';
      if (basic === 'malformed') throw new OAuthFailure(401, 'invalid_client', 'malformed Basic credentials', true);
      entry.clientId = basic.id;
      client = this.#checkSecret(basic.id, basic.secret, 'client_secret_basic');
    } else if (usesAssertion) {
      entry.authMethod = 'private_key_jwt';
      client = await this.#verifyClientAssertion(body, entry);
    } else if (usesPostSecret) {
      entry.authMethod = 'client_secret_post';
      const id = body.get('client_id');
      if (id !== null) entry.clientId = id;
      client = this.#checkSecret(id ?? undefined, body.get('client_secret') ?? '', 'client_secret_post');
    } else {
      client = this.#authenticateByCertificate(req, body, entry);
    }
    const claimedId = body.get('client_id');
    if (claimedId !== null && claimedId !== client.clientId) {
      throw new OAuthFailure(
        401,
        'invalid_client',
        'client_id does not match the authenticated client',
        basic !== undefined,
      );
    }
    return client;
  }

  /**
   * The token `client` (or no client: the JWT-bearer grant) gets on `req`'s connection is bound to
   * this thumbprint (RFC 8705 §3), if any.
   */
  boundThumbprint(req: IncomingMessage, client: RegisteredClient | undefined): string | undefined {
    return boundThumbprint(presentedCertificate(req), client?.mtls, this.#clock);
  }

  /** A request with only `client_id`: a client registered for mutual TLS, proven by its certificate. */
  #authenticateByCertificate(req: IncomingMessage, body: URLSearchParams, entry: LogEntry): RegisteredClient {
    const id = body.get('client_id');
    if (id !== null) entry.clientId = id;
    const client = id === null ? undefined : this.#clients.get(id);
    const methods = client?.authMethods.filter(isMtlsMethod) ?? [];
    if (client === undefined || methods.length === 0)
      throw new OAuthFailure(401, 'invalid_client', 'client authentication is missing');
    entry.authMethod = methods[0]; // what a refusal logs; a success logs the method that proved the client
    entry.authMethod = authenticateByCertificate(client.mtls, methods, presentedCertificate(req), this.#clock);
    return client;
  }

  #checkSecret(id: string | undefined, secret: string, method: MockClientAuthMethod): RegisteredClient {
    const client = id === undefined ? undefined : this.#clients.get(id);
    if (client?.clientSecret === undefined || client.clientSecret !== secret || !client.authMethods.includes(method)) {
      throw new OAuthFailure(401, 'invalid_client', 'client authentication failed', method === 'client_secret_basic');
    }
    return client;
  }

  async #verifyClientAssertion(body: URLSearchParams, entry: LogEntry): Promise<RegisteredClient> {
    const assertion = body.get('client_assertion') ?? '';
    if (body.get('client_assertion_type') !== clientAssertionType) {
      throw new OAuthFailure(401, 'invalid_client', `client_assertion_type must be ${clientAssertionType}`);
    }
    // The key to verify with is picked by the claimed client; the signature then proves the claim.
    const claimedId = body.get('client_id') ?? unverifiedClaims(assertion)?.iss;
    if (claimedId !== undefined) entry.clientId = claimedId;
    const client = claimedId === undefined ? undefined : this.#clients.get(claimedId);
    const { federated } = client ?? {};
    if (
      federated !== undefined &&
      client!.authMethods.includes('private_key_jwt') &&
      unverifiedClaims(assertion)?.iss === federated.issuer
    ) {
      return this.#verifyFederated(assertion, client!, federated);
    }
    if (client?.verifyKey === undefined || !client.authMethods.includes('private_key_jwt')) {
      throw new OAuthFailure(401, 'invalid_client', 'client authentication failed');
    }
    let jti: string;
    try {
      const payload = await this.#assertions.verify(assertion, client.verifyKey, client.verifyAlgorithms, {
        issuer: client.clientId,
        subject: client.clientId,
        requiredClaims: ['exp', 'jti'],
      });
      jti = `${client.clientId} ${String(payload.jti)}`;
    } catch {
      throw new OAuthFailure(401, 'invalid_client', 'client assertion is invalid');
    }
    // RFC 7523 §3: the server may refuse a replayed assertion; a test of replay protection wants it to.
    if (this.#usedAssertionIds.has(jti))
      throw new OAuthFailure(401, 'invalid_client', 'client assertion was already used');
    this.#usedAssertionIds.add(jti);
    return client;
  }

  /**
   * A JWT the platform signed about the workload. It is reused until the platform rotates it, so
   * there is no replay check; its own issuer, subject and audience are checked instead.
   */
  async #verifyFederated(
    assertion: string,
    client: RegisteredClient,
    federated: NonNullable<RegisteredClient['federated']>,
  ): Promise<RegisteredClient> {
    try {
      await this.#assertions.verify(assertion, federated.verifyKey, federated.verifyAlgorithms, {
        issuer: federated.issuer,
        subject: federated.subject,
        audience: federated.audience,
        requiredClaims: ['exp'],
      });
    } catch {
      throw new OAuthFailure(401, 'invalid_client', 'client assertion is invalid');
    }
    return client;
  }
}

/** `Authorization: Basic` credentials: `undefined` when the header is absent or another scheme. */
export function parseBasic(header: string | undefined): { id: string; secret: string } | 'malformed' | undefined {
  const match = header === undefined ? null : /^basic\s+(\S*)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  try {
    // RFC 6749 §2.3.1: id and secret are each form-urlencoded before joining with ':'.
    const formDecode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return 'malformed';
  }
}
