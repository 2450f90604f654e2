import { allowInsecureRequests, customFetch, discovery, type ServerMetadata } from 'openid-client';
import { TokenError } from '../errors.js';
import { classifyFailure } from './classify-failure.js';
import { describeEndpoint } from './endpoint-url.js';
import { boundedFetch, type HttpSettings, type RecordedRequest } from './oauth-http.js';

/**
 * The documents tried, in order: OAuth 2.0 authorization server metadata (RFC 8414), then OpenID
 * Connect discovery. openid-client's `discovery()` tries one (OIDC by default) and never falls back.
 */
const algorithms = ['oauth2', 'oidc'] as const;

/**
 * Fetches the authorization server's metadata: the RFC 8414 document, else (when it is not found) the
 * OpenID Connect one. A failure is a TokenError naming the document's URL, never just the issuer; so
 * is a document without `requiredEndpoint` (default `token_endpoint`).
 *
 * @example
 * ```ts
 * const metadata = await discoverMetadata('https://auth.example.com', 'orders-svc', http, signal);
 * metadata.token_endpoint; // 'https://auth.example.com/oauth2/token'
 * ```
 */
export async function discoverMetadata(
  issuer: string,
  clientId: string,
  settings: HttpSettings,
  closeSignal: AbortSignal,
  requiredEndpoint: 'token_endpoint' | 'introspection_endpoint' = 'token_endpoint',
): Promise<ServerMetadata> {
  // openid-client fetches an issuer that already names a well-known document as it is.
  const tried = issuer.includes('/.well-known/') ? algorithms.slice(0, 1) : algorithms;
  const notFound: string[] = [];
  for (const algorithm of tried) {
    const record: RecordedRequest = {};
    try {
      const config = await discovery(new URL(issuer), clientId, undefined, undefined, {
        algorithm,
        [customFetch]: boundedFetch(settings, closeSignal, record, 'discovery document'),
        timeout: settings.requestTimeoutMs / 1000,
        execute: settings.allowInsecureRequests ? [allowInsecureRequests] : [],
      });
      const metadata = config.serverMetadata();
      if (!metadata[requiredEndpoint]) {
        throw new TokenError(
          'invalid_response',
          `discovery document ${describeEndpoint(record.url ?? issuer)} has no ${requiredEndpoint}`,
        );
      }
      return { ...metadata };
    } catch (err) {
      const named = namedIssuer(err);
      if (named !== undefined) {
        throw new TokenError(
          'invalid_response',
          `discovery document ${describeEndpoint(record.url ?? issuer)} ${otherIssuer(named, issuer)}`,
          { retryable: true },
        );
      }
      if (record.status === 404 && record.url !== undefined) {
        notFound.push(describeEndpoint(record.url));
        continue;
      }
      throw classifyFailure(err, {
        endpoint: describeEndpoint(record.url ?? issuer),
        what: 'discovery document',
        secrets: settings.proxy?.secrets ?? [],
        nowMs: settings.clock.now(),
      });
    }
  }
  throw new TokenError(
    'invalid_response',
    `issuer ${describeEndpoint(issuer)} has no discovery document: ${notFound.join(' and ')} answered HTTP 404`,
    {
      status: 404,
    },
  );
}

/**
 * The issuer a discovery document named, when openid-client refused the document for naming another
 * than the configured one (`OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED` on `issuer`, the document as
 * `body`, on the error or its cause); else `undefined`.
 */
function namedIssuer(err: unknown): unknown {
  for (let error = err, depth = 0; error instanceof Error && depth < 3; error = error.cause, depth++) {
    const { code, cause } = error as { code?: unknown; cause?: { attribute?: unknown; body?: { issuer?: unknown } } };
    if (code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' && cause?.attribute === 'issuer')
      return cause.body?.issuer ?? null;
  }
  return undefined;
}

/**
 * Both issuers, and the usual cause spelt out: a trailing slash (Auth0 writes its issuers with one).
 * openid-client already forgives the slash after a bare origin, not after a path.
 */
function otherIssuer(named: unknown, configured: string): string {
  if (typeof named !== 'string') return `names no issuer; the configured issuer is ${JSON.stringify(configured)}`;
  const shown = JSON.stringify(named.slice(0, 200));
  const slashOnly = named.replace(/\/$/, '') === configured.replace(/\/$/, '');
  return (
    `names the issuer ${shown}, not the configured issuer ${JSON.stringify(configured)}` +
    (slashOnly
      ? `: they differ only by a trailing slash, and issuers are compared exactly; set issuer to ${shown}`
      : '')
  );
}
