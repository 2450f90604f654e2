// Fetches a discovery document or a JWKS with its body read here, up to a cap. Node's fetch, and
// jose's JWKS fetch (which takes this one through its customFetch hook), read a body of any size
// whole: a 64 MB answer cost the process about 280 MB.
import { readCappedBody } from '../common/capped-body.js';
import { describeEndpoint } from '../token/http/endpoint-url.js';
import { KeysUnavailableError } from './keys-unavailable.js';

/** Largest discovery document or JWKS read, in bytes (real ones are a few KB). */
export const maxAnswerBytes = 1 << 20;

/** An answer past {@link maxAnswerBytes}. */
export class AnswerTooLargeError extends KeysUnavailableError {}

/**
 * `fetch(url, init)`, with a 200 answer's body read in full before it is handed back, and refused
 * once it passes {@link maxAnswerBytes} (a declared Content-Length before reading anything); what
 * is left is not read. An answer with another status comes back without its body. `what` names the
 * URL in the error.
 *
 * @throws AnswerTooLargeError for a body past the cap; what `fetch` throws, as it is.
 */
export async function fetchCapped(url: string, init: RequestInit, what: string): Promise<Response> {
  const response = await fetch(url, init);
  const { status, statusText, headers, body } = response;
  if (status !== 200 || body === null) {
    await body?.cancel();
    return new Response(null, { status, statusText, headers });
  }
  const tooLarge = (): Error =>
    new AnswerTooLargeError(`${what} ${describeEndpoint(url)} answered with more than ${maxAnswerBytes} bytes`);
  const read = await readCappedBody(body, headers, maxAnswerBytes, tooLarge);
  return new Response(read, { status, statusText, headers });
}
