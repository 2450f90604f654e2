// The token endpoint of the mock: one request, from its form to a token (or an OAuth error), with a
// queued fault applied first.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FaultQueue, tokenAnswerOf } from './faults.js';
import { readFormOrFault } from './form-endpoint.js';
import type { DpopVerifier } from './dpop.js';
import { grantToken, type GrantParties } from './grants.js';
import { OAuthFailure, sendJson, sendOAuthError, withHeaders, type Clock } from './http.js';
import type { LogEntry } from './types.js';

/** What a token request is answered with: the server's faults, parties and clock. */
export interface TokenEndpointParts {
  readonly faults: FaultQueue;
  readonly parties: GrantParties;
  readonly clock: Clock;
  /** The server, for the token answer's defaults (lifetime, `expires_in`). */
  readonly server: Parameters<typeof tokenAnswerOf>[1];
  /** The check of DPoP proofs. */
  readonly dpop: DpopVerifier;
  /** The URL of the token endpoint on the listener the request came to: a DPoP proof's `htu`. */
  readonly htu: string;
}

/** Answers one request to the token endpoint, logging what it asked for into `entry`. */
export async function answerTokenRequest(
  req: IncomingMessage,
  res: ServerResponse,
  entry: LogEntry,
  { faults, parties, clock, server, dpop, htu }: TokenEndpointParts,
): Promise<void> {
  const request = await readFormOrFault(req, res, entry, faults, clock, (body) => ({
    grantType: body.get('grant_type') ?? undefined,
    scope: body.get('scope') ?? undefined,
    audience: body.get('audience') ?? undefined,
    resource: body.getAll('resource').join(' '),
  }));
  if (request === undefined) return;
  try {
    const { shape, headers } = tokenAnswerOf(request.fault, server);
    const dpopJkt = await dpop.check(req, htu, entry);
    const answer = await grantToken(parties, req, request.form, entry, shape, dpopJkt);
    const base: Record<string, string> = { 'cache-control': 'no-store', pragma: 'no-cache' };
    if (dpop.nonce !== undefined) base['dpop-nonce'] = dpop.nonce;
    sendJson(res, clock, 200, answer, withHeaders(base, headers));
  } catch (err) {
    if (err instanceof OAuthFailure) return sendOAuthError(res, clock, err);
    throw err;
  }
}
