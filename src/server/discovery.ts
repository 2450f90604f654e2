// Finds the issuer's jwks_uri in its discovery document. Hand-written with fetch: openid-client
// does this for clients, but ./server must not depend on OAuth client code, and jose has no discovery.
import { describeEndpoint } from '../token/http/endpoint-url.js';

/** Thrown when the signing keys cannot be found or fetched: the call ends `UNAVAILABLE`. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}

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
 * The `jwks_uri` of `issuer`'s discovery document. The document's `issuer` must be the configured
 * one (RFC 8414 §3.3: otherwise another server's keys could be trusted), and `jwks_uri` https
 * unless `allowInsecureRequests`. Redirects are not followed.
 *
 * @throws KeysUnavailableError naming the document's URL and what was wrong.
 */
export async function discoverJwksUri(issuer: string, allowInsecureRequests: boolean, timeoutMs: number): Promise<URL> {
  const tried: string[] = [];
  for (const url of discoveryUrls(issuer)) {
    let response: Response;
    try {
      response = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (err) {
      throw new KeysUnavailableError(
        `discovery document ${describeEndpoint(url)} could not be fetched (${(err as Error).name})`,
      );
    }
    if (response.status === 404) {
      await response.body?.cancel();
      tried.push(describeEndpoint(url));
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new KeysUnavailableError(`discovery document ${describeEndpoint(url)} answered HTTP ${response.status}`);
    }
    const document = (await response.json().catch(() => undefined)) as
      { issuer?: unknown; jwks_uri?: unknown } | undefined;
    if (document?.issuer !== issuer)
      throw new KeysUnavailableError(
        `discovery document ${describeEndpoint(url)} ${otherIssuer(document?.issuer, issuer)}`,
      );
    return jwksUrl(
      document.jwks_uri,
      `jwks_uri of ${describeEndpoint(url)}`,
      allowInsecureRequests,
      (message) => new KeysUnavailableError(message),
    );
  }
  throw new KeysUnavailableError(
    `issuer ${describeEndpoint(issuer)} has no discovery document: ${tried.join(' and ')} answered HTTP 404`,
  );
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

/** `value` as an https URL (http only when allowed), else the error `fail` makes. */
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
  return url;
}
