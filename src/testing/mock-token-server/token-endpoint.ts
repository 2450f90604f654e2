// The token endpoint of the mock: one request, from its form to a token (or an OAuth error), with a
// queued fault applied first.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FaultQueue, tokenAnswerOf } from './faults.js';
import { grantToken, type GrantParties } from './grants.js';
import {
  OAuthFailure,
  readBody,
  sendJson,
  sendMethodNotAllowed,
  sendOAuthError,
  withHeaders,
  type Clock,
} from './http.js';
import type { LogEntry } from './types.js';

/** What a token request is answered with: the server's faults, parties and clock. */
export interface TokenEndpointParts {
  readonly faults: FaultQueue;
  readonly parties: GrantParties;
  readonly clock: Clock;
  /** The server, for the token answer's defaults (lifetime, `expires_in`). */
  readonly server: Parameters<typeof tokenAnswerOf>[1];
}

/** Answers one request to the token endpoint, logging what it asked for into `entry`. */
export async function answerTokenRequest(
  req: IncomingMessage,
  res: ServerResponse,
  entry: LogEntry,
  { faults, parties, clock, server }: TokenEndpointParts,
): Promise<void> {
  const fault = faults.take();
  const { text, form } = await readBody(req);
  // A queued fault wins over a malformed request: the test asked for exactly that answer.
  if (form instanceof OAuthFailure && fault === undefined) return sendOAuthError(res, clock, form);
  const body = form instanceof OAuthFailure ? new URLSearchParams() : form;
  const logged = {
    grantType: body.get('grant_type'),
    scope: body.get('scope'),
    audience: body.get('audience'),
    resource: body.getAll('resource').join(' '),
  };
  for (const [name, value] of Object.entries(logged)) if (value) entry[name as keyof typeof logged] = value;
  if (fault !== undefined) {
    entry.fault = fault.type;
    const applied = await faults.apply(res, fault, { authorization: req.headers.authorization, text, form: body });
    if (applied === 'answered') return;
  }
  if (req.method !== 'POST') return sendMethodNotAllowed(res, clock, 'POST');
  try {
    const { shape, headers } = tokenAnswerOf(fault, server);
    const answer = await grantToken(parties, req, body, entry, shape);
    sendJson(res, clock, 200, answer, withHeaders({ 'cache-control': 'no-store', pragma: 'no-cache' }, headers));
  } catch (err) {
    if (err instanceof OAuthFailure) return sendOAuthError(res, clock, err);
    throw err;
  }
}
