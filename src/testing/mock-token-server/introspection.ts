// The token status endpoints of the mock: introspection (RFC 7662), which tells a resource server
// whether a token is active and what it stands for, and revocation (RFC 7009). Both authenticate the
// caller as the token endpoint does, and read tokens of both formats.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientRegistry, RegisteredClient } from './client-auth.js';
import type { FaultQueue } from './faults.js';
import { readFormOrFault } from './form-endpoint.js';
import { OAuthFailure, httpDate, sendJson, sendOAuthError, type Clock } from './http.js';
import type { TokenState } from './issued-tokens.js';
import type { TokenIssuer } from './token-issuer.js';
import type { LogEntry } from './types.js';

/** What an introspection or revocation request is answered with. */
export interface TokenStatusParts {
  readonly faults: FaultQueue;
  readonly clients: ClientRegistry;
  readonly issuer: TokenIssuer;
  readonly clock: Clock;
}

/**
 * Answers one introspection request: `{ active: false }` for a token that is unknown, expired,
 * revoked or not signed by the current key; else `active: true` with the token's claims and
 * `token_type`. Any authenticated client may introspect any token.
 */
export function answerIntrospectionRequest(
  req: IncomingMessage,
  res: ServerResponse,
  entry: LogEntry,
  parts: TokenStatusParts,
): Promise<void> {
  return answerTokenStatusRequest(req, res, entry, parts, async (_client, token) => {
    const answer = introspectionAnswer(await parts.issuer.stateOf(token));
    entry.active = answer.active;
    sendJson(res, parts.clock, 200, answer, { 'cache-control': 'no-store' });
  });
}

/**
 * Answers one revocation request: a live token of the calling client is revoked; a token of another
 * client is refused with `unauthorized_client` (RFC 7009 §2.1); any other token is answered 200 as
 * if revoked (§2.2).
 */
export function answerRevocationRequest(
  req: IncomingMessage,
  res: ServerResponse,
  entry: LogEntry,
  parts: TokenStatusParts,
): Promise<void> {
  return answerTokenStatusRequest(req, res, entry, parts, async (client, token) => {
    const known = await parts.issuer.stateOf(token);
    if (known.state === 'live') {
      if (known.claims.client_id !== client.clientId)
        throw new OAuthFailure(400, 'unauthorized_client', 'the token was issued to another client');
      parts.issuer.revoke(token, known.claims);
    }
    res.writeHead(200, { 'cache-control': 'no-store', date: httpDate(parts.clock) });
    res.end();
  });
}

/** Reads the form (after a queued fault), authenticates the caller and hands its `token` to `answer`. */
async function answerTokenStatusRequest(
  req: IncomingMessage,
  res: ServerResponse,
  entry: LogEntry,
  { faults, clients, clock }: TokenStatusParts,
  answer: (client: RegisteredClient, token: string) => Promise<void>,
): Promise<void> {
  const request = await readFormOrFault(req, res, entry, faults, clock, (form) => ({
    tokenTypeHint: form.get('token_type_hint') ?? undefined,
  }));
  if (request === undefined) return;
  try {
    const client = await clients.authenticate(req, request.form, entry);
    await answer(client, tokenOf(request.form));
  } catch (err) {
    if (err instanceof OAuthFailure) return sendOAuthError(res, clock, err);
    throw err;
  }
}

/** The answer of RFC 7662 §2.2 for a token in `known` state. */
export function introspectionAnswer(known: TokenState): { active: boolean } & Record<string, unknown> {
  if (known.state !== 'live') return { active: false };
  const tokenType = (known.claims.cnf as { jkt?: string } | undefined)?.jkt === undefined ? 'Bearer' : 'DPoP';
  return { active: true, ...known.claims, scope: known.claims.scope || undefined, token_type: tokenType };
}

/** The `token` parameter; `invalid_request` without one. Never put into a message: it is a credential. */
function tokenOf(form: URLSearchParams): string {
  const token = form.get('token');
  if (!token) throw new OAuthFailure(400, 'invalid_request', 'the token parameter is missing');
  return token;
}
