// The HTTP side of the mock token server: request bodies, answers, routing and discovery (listeners.ts has the sockets).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import type { MockMtlsEndpointAliases } from './mtls-types.js';
import type { LogEntry, MockDiscovery } from './types.js';

/** Largest request body read, in bytes; a bigger one gets 413. */
const maxRequestBytes = 64 * 1024;

/** Where the server reads the time, in milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** An OAuth error answer, thrown inside request handling and turned into the response. */
export class OAuthFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    /** Whether the client used Basic: RFC 6749 §5.2 then asks for a matching `WWW-Authenticate`. */
    readonly basicChallenge = false,
    /** Headers the answer carries, such as DPoP's `DPoP-Nonce`. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description);
  }
}

/** Path of the token endpoint. */
export const tokenPath = '/oauth2/token';
/** Path of the introspection endpoint (RFC 7662). */
export const introspectionPath = '/oauth2/introspect';
/** Path of the revocation endpoint (RFC 7009). */
export const revocationPath = '/oauth2/revoke';
const oauthMetadataPath = '/.well-known/oauth-authorization-server';
const oidcMetadataPath = '/.well-known/openid-configuration';
/** The well-known paths each discovery mode serves; the others answer 404 as on an issuer without them. */
const metadataPaths: Record<MockDiscovery, readonly string[]> = {
  both: [oauthMetadataPath, oidcMetadataPath],
  oauth: [oauthMetadataPath],
  oidc: [oidcMetadataPath],
  none: [],
};

/** What the server answers at each path. */
export interface Endpoints {
  readonly discovery: MockDiscovery;
  /** RFC 8414 metadata, served at the well-known paths `discovery` names. */
  metadata(): Record<string, unknown>;
  jwks(): { keys: JWK[] };
  token(req: IncomingMessage, res: ServerResponse, entry: LogEntry): Promise<void>;
  introspection(req: IncomingMessage, res: ServerResponse, entry: LogEntry): Promise<void>;
  revocation(req: IncomingMessage, res: ServerResponse, entry: LogEntry): Promise<void>;
}

/** Answers one request by its path. */
export async function route(
  req: IncomingMessage,
  res: ServerResponse,
  entry: LogEntry,
  endpoints: Endpoints,
  clock: Clock,
): Promise<void> {
  if (metadataPaths[endpoints.discovery].includes(entry.path)) {
    if (req.method !== 'GET') return sendMethodNotAllowed(res, clock, 'GET');
    return sendJson(res, clock, 200, endpoints.metadata());
  }
  switch (entry.path) {
    case '/.well-known/jwks.json':
      if (req.method !== 'GET') return sendMethodNotAllowed(res, clock, 'GET');
      return sendJson(res, clock, 200, endpoints.jwks());
    case tokenPath:
      return endpoints.token(req, res, entry);
    case introspectionPath:
      return endpoints.introspection(req, res, entry);
    case revocationPath:
      return endpoints.revocation(req, res, entry);
    default:
      return sendJson(res, clock, 404, { error: 'not_found', error_description: `no endpoint at ${entry.path}` });
  }
}

/**
 * RFC 8414 metadata; also served as OpenID discovery, which OAuth clients read the same way. With
 * `mtlsEndpointAliases` (HTTPS mode), RFC 8705's fields too.
 */
export function discoveryMetadata(endpoints: {
  issuer: string;
  tokenEndpoint: string;
  introspectionEndpoint: string;
  revocationEndpoint: string;
  jwksUri: string;
  grantTypes: readonly string[];
  authMethods: readonly string[];
  assertionAlgorithms: readonly string[];
  scopes: ReadonlySet<string>;
  mtlsEndpointAliases: MockMtlsEndpointAliases | undefined;
  dpopAlgorithms: readonly string[];
}): Record<string, unknown> {
  return {
    issuer: endpoints.issuer,
    token_endpoint: endpoints.tokenEndpoint,
    jwks_uri: endpoints.jwksUri,
    grant_types_supported: [...endpoints.grantTypes],
    token_endpoint_auth_methods_supported: [...endpoints.authMethods],
    token_endpoint_auth_signing_alg_values_supported: [...endpoints.assertionAlgorithms],
    introspection_endpoint: endpoints.introspectionEndpoint,
    introspection_endpoint_auth_methods_supported: [...endpoints.authMethods],
    revocation_endpoint: endpoints.revocationEndpoint,
    revocation_endpoint_auth_methods_supported: [...endpoints.authMethods],
    scopes_supported: endpoints.scopes.size > 0 ? [...endpoints.scopes] : undefined,
    tls_client_certificate_bound_access_tokens: endpoints.mtlsEndpointAliases && true,
    mtls_endpoint_aliases: endpoints.mtlsEndpointAliases && { ...endpoints.mtlsEndpointAliases },
    dpop_signing_alg_values_supported: [...endpoints.dpopAlgorithms],
  };
}

/** A request body: the text as sent (empty when too large or unreadable), and the form, or the OAuth failure to answer with. */
export interface RequestBody {
  readonly text: string;
  readonly form: URLSearchParams | OAuthFailure;
}

/** Reads the whole body even when too large, so the answer reaches the client. */
export async function readBody(req: IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= maxRequestBytes) chunks.push(chunk);
    }
  } catch {
    return { text: '', form: new OAuthFailure(400, 'invalid_request', 'request body could not be read') };
  }
  if (size > maxRequestBytes)
    return {
      text: '',
      form: new OAuthFailure(413, 'invalid_request', `request body is larger than ${maxRequestBytes} bytes`),
    };
  const text = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (size > 0 && type !== 'application/x-www-form-urlencoded') {
    return {
      text,
      form: new OAuthFailure(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded'),
    };
  }
  return { text, form: new URLSearchParams(text) };
}

/** A JSON answer, dated by `clock`; `headers` win over the defaults. Does nothing once an answer has started. */
export function sendJson(
  res: ServerResponse,
  clock: Clock,
  status: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, withHeaders({ 'content-type': 'application/json', date: httpDate(clock) }, headers));
  res.end(JSON.stringify(body));
}

/** The OAuth error answer for `failure`, with a Basic challenge when the client used Basic. */
export function sendOAuthError(res: ServerResponse, clock: Clock, failure: OAuthFailure): void {
  const challenge: Record<string, string> = failure.basicChallenge
    ? { 'www-authenticate': `Basic realm="mock", error="${failure.error}"` }
    : {};
  const headers = withHeaders(challenge, failure.headers);
  sendJson(res, clock, failure.status, { error: failure.error, error_description: failure.description }, headers);
}

/** 405 with the `Allow` header. */
export function sendMethodNotAllowed(res: ServerResponse, clock: Clock, allow: string): void {
  sendJson(res, clock, 405, { error: 'invalid_request', error_description: `use ${allow}` }, { allow });
}

/**
 * `base` with `extra` on top. Header names are case-insensitive, so an extra `Date` replaces the
 * default `date` instead of going out as a second value.
 */
export function withHeaders(
  base: Record<string, string>,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const merged = { ...base };
  for (const [name, value] of Object.entries(extra)) merged[name.toLowerCase()] = value;
  return merged;
}

/** `clock`'s time as an HTTP `Date` header value. */
export function httpDate(clock: Clock): string {
  return new Date(clock.now()).toUTCString();
}
