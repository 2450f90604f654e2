// Finds the issuer's jwks_uri in its discovery document. Hand-written with fetch: openid-client
// does this for clients, but ./server must not depend on OAuth client code, and jose has no discovery.
import { warnOnce } from '../common/warn-once.js';
import { describeEndpoint, isLoopback } from '../token/http/endpoint-url.js';
import { AnswerTooLargeError, fetchCapped, maxAnswerBytes } from './capped-fetch.js';
import { KeysUnavailableError } from './keys-unavailable.js';

/**
 * The well-known documents tried, in order: OAuth 2.0 authorization server metadata (RFC 8414 §3,
 * the well-known segment goes before the issuer's path), then OpenID Connect discovery (appended).
 */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * The `jwks_uri` of `issuer`'s discovery document: the first of {@link discoveryUrls} that is usable.
 * A document is usable when it is a JSON object whose `issuer` is the configured one (RFC 8414 §3.3:
 * otherwise another server's keys could be trusted) and whose `jwks_uri` is https (http only with
 * `allowInsecureRequests`). Any other answer (a 403, a sign-in page, JSON without `issuer`) moves on
 * to the next document; a request that gets no answer at all fails at once. Redirects are not followed.
 *
 * @throws KeysUnavailableError naming each document's URL and what was wrong with it.
 */
export async function discoverJwksUri(issuer: string, allowInsecureRequests: boolean, timeoutMs: number): Promise<URL> {
  const problems: string[] = [];
  for (const url of discoveryUrls(issuer)) {
    const document = await documentAt(url, timeoutMs);
    if (typeof document === 'string') {
      problems.push(`${describeEndpoint(url)} ${document}`);
    } else if (document.issuer !== issuer) {
      problems.push(`${describeEndpoint(url)} ${otherIssuer(document.issuer, issuer)}`);
    } else {
      try {
        return jwksUrl(document.jwks_uri, `jwks_uri of ${describeEndpoint(url)}`, allowInsecureRequests, (message) =>
          Error(message),
        );
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  throw new KeysUnavailableError(
    `issuer ${JSON.stringify(issuer)} has no usable discovery document: ${problems.join('; ')}`,
  );
}

/** The JSON object `url` answers with, or what is wrong with the answer. @throws KeysUnavailableError when there is none. */
async function documentAt(url: string, timeoutMs: number): Promise<Record<string, unknown> | string> {
  let response: Response;
  try {
    const init: RequestInit = {
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
    };
    response = await fetchCapped(url, init, 'discovery document');
  } catch (err) {
    if (err instanceof AnswerTooLargeError) return `answered with more than ${maxAnswerBytes} bytes`;
    throw new KeysUnavailableError(
      `discovery document ${describeEndpoint(url)} could not be fetched (${(err as Error).name})`,
    );
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return `answered HTTP ${response.status}`;
  }
  const document: unknown = await response.json().catch(() => undefined);
  return typeof document === 'object' && document !== null && !Array.isArray(document)
    ? (document as Record<string, unknown>)
    : 'is not a JSON object';
}

/**
 * What is wrong with a document's `issuer`, naming both issuers: the document's must be the
 * configured one to the letter, like every token's `iss`. The usual cause is spelt out: a trailing
 * slash (Auth0 writes its issuers with one).
 */
function otherIssuer(named: unknown, configured: string): string {
  if (typeof named !== 'string') return `names no issuer; the configured issuer is ${JSON.stringify(configured)}`;
  const shown = JSON.stringify(named.slice(0, 200));
  const differsBySlash = named.replace(/\/$/, '') === configured.replace(/\/$/, '');
  const hint = `: they differ only by a trailing slash, and issuers are compared exactly; set issuer to ${shown}`;
  return `names the issuer ${shown}, not the configured issuer ${JSON.stringify(configured)}${differsBySlash ? hint : ''}`;
}

/**
 * `value` as an https URL (http only when allowed, and then off loopback with a warning once per
 * process), else the error `fail` makes.
 */
export function jwksUrl(
  value: unknown,
  what: string,
  allowInsecureRequests: boolean,
  fail: (message: string) => Error,
): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw fail(`${what} is not a URL`);
  }
  if (url.protocol === 'http:' && !allowInsecureRequests) {
    throw fail(
      `${what} is http://: keys fetched in plaintext can be swapped on the way. Use https, or allowInsecureRequests: true for local tests`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw fail(`${what} must be an https URL`);
  if (url.username || url.password) throw fail(`${what} must not contain credentials`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    // Allowed (a test rig may use a container name), but said once per process, as the token side does.
    warnOnce(
      'GRPC_OAUTH2_INSECURE_KEY_SOURCE',
      'InsecureEndpointWarning',
      `${what} is http:// on a host that is not loopback: the signing keys will cross the network in PLAINTEXT, ` +
        'where anyone on the path can swap them and have this server accept tokens they signed ' +
        '(allowInsecureRequests is set). Use https outside local tests.',
    );
  }
  return url;
}
