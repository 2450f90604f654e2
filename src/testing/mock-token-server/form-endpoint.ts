// What each endpoint that takes a posted form (token, introspection, revocation) does before its own
// work: take the fault queued for it, read the form, log what it asked for, and answer the fault.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultQueue } from './faults.js';
import { OAuthFailure, readBody, sendMethodNotAllowed, sendOAuthError, type Clock } from './http.js';
import type { LogEntry, TokenServerFault } from './types.js';

/** The fields of a request's log entry an endpoint fills from its form: never a secret or a token. */
type LoggedFields = Partial<Record<'grantType' | 'scope' | 'audience' | 'resource' | 'tokenTypeHint', string>>;

/**
 * The form of a POST to answer normally, and the fault that still shapes that answer (`delay` has
 * passed; `token` changes the token); `undefined` when the request is answered already: by its fault,
 * or by an error for a form that cannot be read or a method other than POST.
 * @param logged - what of the form goes into the log entry; empty values are left out.
 */
export async function readFormOrFault(
  req: IncomingMessage,
  res: ServerResponse,
  entry: LogEntry,
  faults: FaultQueue,
  clock: Clock,
  logged: (form: URLSearchParams) => LoggedFields,
): Promise<{ form: URLSearchParams; fault: TokenServerFault | undefined } | undefined> {
  const fault = faults.take();
  const { text, form: read } = await readBody(req);
  // A queued fault wins over a malformed request: the test asked for exactly that answer.
  if (read instanceof OAuthFailure && fault === undefined) {
    sendOAuthError(res, clock, read);
    return undefined;
  }
  const form = read instanceof OAuthFailure ? new URLSearchParams() : read;
  for (const [name, value] of Object.entries(logged(form))) if (value) entry[name as keyof LoggedFields] = value;
  if (fault !== undefined) {
    entry.fault = fault.type;
    const applied = await faults.apply(res, fault, { authorization: req.headers.authorization, text, form });
    if (applied === 'answered') return undefined;
  }
  if (req.method === 'POST') return { form, fault };
  sendMethodNotAllowed(res, clock, 'POST');
  return undefined;
}
