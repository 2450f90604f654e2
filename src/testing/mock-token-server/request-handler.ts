// One request to the mock token server: its log entry, its count, and the endpoint that answers it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { assertionAlgorithms } from './assertions.js';
import { clientAuthMethods } from './client-auth.js';
import { DpopVerifier, dpopAlgorithms } from './dpop.js';
import { FaultQueue } from './faults.js';
import { advertisedScopes, grantTypes, type GrantParties } from './grants.js';
import { discoveryMetadata, route, type Clock } from './http.js';
import { answerIntrospectionRequest, answerRevocationRequest } from './introspection.js';
import type { ListenerKind } from './listeners.js';
import { isMtlsMethod, presentedCertificate } from './mtls-client-auth.js';
import type { MockTokenServer } from './server.js';
import { answerTokenRequest } from './token-endpoint.js';
import type { LogEntry, MockFaultEndpoint } from './types.js';

/** What the requests to one server read and change, besides the server's public settings. */
export interface ServerState {
  readonly clock: Clock;
  readonly parties: GrantParties;
  /** The faults queued for each endpoint. */
  readonly faults: Readonly<Record<MockFaultEndpoint, FaultQueue>>;
  /** Requests to each endpoint so far. */
  readonly requestCounts: Record<MockFaultEndpoint, number>;
  /** Every request so far, oldest first. */
  readonly log: LogEntry[];
  /** The check of DPoP proofs, and the nonce. */
  readonly dpop: DpopVerifier;
}

/** The state of a new server: nothing queued, counted or logged yet; a DPoP nonce if `dpopNonce`. */
export function newServerState(clock: Clock, parties: GrantParties, dpopNonce: boolean): ServerState {
  const queue = (endpoint: MockFaultEndpoint): FaultQueue => new FaultQueue(clock, endpoint);
  return {
    clock,
    parties,
    faults: { token: queue('token'), introspection: queue('introspection'), revocation: queue('revocation') },
    requestCounts: { token: 0, introspection: 0, revocation: 0 },
    log: [],
    dpop: new DpopVerifier(clock, dpopNonce),
  };
}

/** Logs, counts and answers one request to `server` that came to `listener`. */
export async function handleRequest(
  server: MockTokenServer,
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  listener: ListenerKind,
): Promise<void> {
  const { clock, parties, faults, requestCounts } = state;
  const entry: LogEntry = {
    time: new Date(clock.now()),
    method: req.method ?? '',
    path: (req.url ?? '/').split('?')[0] ?? '/',
  };
  if (listener === 'mtls') entry.mtlsAlias = true;
  const certificate = presentedCertificate(req);
  if (certificate !== undefined) entry.certificateSha256 = certificate.sha256;
  state.log.push(entry);
  res.on('finish', () => (entry.status = res.statusCode));
  const status = { clients: parties.clients, issuer: parties.issuer, clock };
  const endpoints = {
    discovery: server.discovery,
    metadata: () => metadataOf(server, parties),
    jwks: () => server.jwks,
    token: (request: IncomingMessage, response: ServerResponse, logEntry: LogEntry) => {
      requestCounts.token++;
      const htu = listener === 'mtls' ? server.mtlsEndpointAliases!.token_endpoint : server.tokenEndpoint;
      const parts = { faults: faults.token, parties, clock, server, dpop: state.dpop, htu };
      return answerTokenRequest(request, response, logEntry, parts);
    },
    introspection: (request: IncomingMessage, response: ServerResponse, logEntry: LogEntry) => {
      requestCounts.introspection++;
      return answerIntrospectionRequest(request, response, logEntry, { ...status, faults: faults.introspection });
    },
    revocation: (request: IncomingMessage, response: ServerResponse, logEntry: LogEntry) => {
      requestCounts.revocation++;
      return answerRevocationRequest(request, response, logEntry, { ...status, faults: faults.revocation });
    },
  };
  await route(req, res, entry, endpoints, clock);
}

/** The discovery document `server` serves, as its parties stand now. */
function metadataOf(server: MockTokenServer, parties: GrantParties): Record<string, unknown> {
  const { issuer, tokenEndpoint, introspectionEndpoint, revocationEndpoint, jwksUri, mtlsEndpointAliases } = server;
  return discoveryMetadata({
    issuer,
    tokenEndpoint,
    introspectionEndpoint,
    revocationEndpoint,
    jwksUri,
    grantTypes,
    authMethods: clientAuthMethods.filter((method) => mtlsEndpointAliases !== undefined || !isMtlsMethod(method)),
    assertionAlgorithms,
    scopes: advertisedScopes(parties),
    mtlsEndpointAliases,
    dpopAlgorithms,
  });
}
