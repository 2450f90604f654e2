// The HTTP side of the mock token server: the loopback socket, request bodies, answers, routing and discovery.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { JWK } from 'jose';
import type { LogEntry } from './types.js';

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
  ) {
    super(description);
  }
}

/** Resolves with an HTTP server listening on 127.0.0.1 on a free port. */
export async function listenOnLoopback(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/**
 * Keeps `sockets` to the server's open connections (so `close()` can destroy hanging ones), swallows
 * socket and parser errors, and hands each request to `handle`. A request `handle` rejects gets 500
 * rather than crashing the test run: a bug here, or a fault with unusable headers.
 */
export function serve(server: Server, sockets: Set<Socket>, clock: Clock, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): void {
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('error', () => undefined);
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('request', (req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    handle(req, res).catch(() => {
      try {
        sendJson(res, clock, 500, { error: 'server_error', error_description: 'mock server failure' });
      } catch {
        res.destroy();
      }
    });
  });
}

/** What the server answers at each path besides the token endpoint. */
export interface Endpoints {
  /** RFC 8414 metadata, served at both well-known paths. */
  metadata(): Record<string, unknown>;
  jwks(): { keys: JWK[] };
  token(req: IncomingMessage, res: ServerResponse, entry: LogEntry): Promise<void>;
}

/** Answers one request by its path. */
export async function route(req: IncomingMessage, res: ServerResponse, entry: LogEntry, endpoints: Endpoints, clock: Clock): Promise<void> {
  switch (entry.path) {
    case '/.well-known/oauth-authorization-server':
    case '/.well-known/openid-configuration':
      if (req.method !== 'GET') return sendMethodNotAllowed(res, clock, 'GET');
      return sendJson(res, clock, 200, endpoints.metadata());
    case '/.well-known/jwks.json':
      if (req.method !== 'GET') return sendMethodNotAllowed(res, clock, 'GET');
      return sendJson(res, clock, 200, endpoints.jwks());
    case tokenPath:
      return endpoints.token(req, res, entry);
    default:
      return sendJson(res, clock, 404, { error: 'not_found', error_description: `no endpoint at ${entry.path}` });
  }
}

/** Path of the token endpoint. */
export const tokenPath = '/oauth2/token';

/** RFC 8414 metadata; also served as OpenID discovery, which OAuth clients read the same way. */
export function discoveryMetadata(endpoints: {
  issuer: string;
  tokenEndpoint: string;
  jwksUri: string;
  grantTypes: readonly string[];
  authMethods: readonly string[];
  assertionAlgorithms: readonly string[];
  scopes: ReadonlySet<string>;
}): Record<string, unknown> {
  return {
    issuer: endpoints.issuer,
    token_endpoint: endpoints.tokenEndpoint,
    jwks_uri: endpoints.jwksUri,
    grant_types_supported: [...endpoints.grantTypes],
    token_endpoint_auth_methods_supported: [...endpoints.authMethods],
    token_endpoint_auth_signing_alg_values_supported: [...endpoints.assertionAlgorithms],
    scopes_supported: endpoints.scopes.size > 0 ? [...endpoints.scopes] : undefined,
  };
}

/** The form body, or the OAuth failure to answer with. Reads the whole body even when too large, so the answer reaches the client. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams | OAuthFailure> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= maxRequestBytes) chunks.push(chunk);
    }
  } catch {
    return new OAuthFailure(400, 'invalid_request', 'request body could not be read');
  }
  if (size > maxRequestBytes) return new OAuthFailure(413, 'invalid_request', `request body is larger than ${maxRequestBytes} bytes`);
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (size > 0 && type !== 'application/x-www-form-urlencoded') {
    return new OAuthFailure(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A JSON answer, dated by `clock`; `headers` win over the defaults. Does nothing once an answer has started. */
export function sendJson(res: ServerResponse, clock: Clock, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', date: httpDate(clock), ...headers });
  res.end(JSON.stringify(body));
}

/** The OAuth error answer for `failure`, with a Basic challenge when the client used Basic. */
export function sendOAuthError(res: ServerResponse, clock: Clock, failure: OAuthFailure): void {
  const headers: Record<string, string> = failure.basicChallenge ? { 'www-authenticate': `Basic realm="mock", error="${failure.error}"` } : {};
  sendJson(res, clock, failure.status, { error: failure.error, error_description: failure.description }, headers);
}

/** 405 with the `Allow` header. */
export function sendMethodNotAllowed(res: ServerResponse, clock: Clock, allow: string): void {
  sendJson(res, clock, 405, { error: 'invalid_request', error_description: `use ${allow}` }, { allow });
}

/** `clock`'s time as an HTTP `Date` header value. */
export function httpDate(clock: Clock): string {
  return new Date(clock.now()).toUTCString();
}
