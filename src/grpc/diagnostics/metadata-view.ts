import type { Metadata, MetadataValue } from '@grpc/grpc-js';
import { scopesOfClaims, unverifiedJwt } from '../../token/unverified-claims.js';

/** Binary values up to this size are shown (base64); larger ones only by size. */
const maxShownBinaryBytes = 64;

/** Keys whose values are credentials whatever they look like. */
const secretKeys = new Set(['cookie', 'set-cookie', 'x-api-key', 'api-key', 'apikey', 'x-auth-token', 'x-csrf-token']);
/** Words that make any key secret: `x-upstream-token`, `client-secret`, `session-id`... */
const secretKeyWords = /token|secret|passw|session|credential|api-?key|auth/;
/** A value that is, or carries, a JWT or a bearer credential, under whatever key. */
const credentialLike = /eyJ[\w-]+\.[\w-]+\.|\bbearer\s/i;

/**
 * Metadata as the metadata logger shows it: every key, each value by this rule (docs/troubleshooting.md):
 *
 * - `authorization`, `proxy-authorization`: the scheme and the length, never the credential; for a
 *   Bearer JWT also its expiry and scopes, decoded and not verified.
 * - `cookie`, `set-cookie`, `x-api-key` and any key containing `token`, `secret`, `passw`,
 *   `session`, `credential`, `api-key` or `auth`: `[redacted: N chars]`.
 * - `-bin` keys: up to 64 bytes in base64, larger ones as `[N bytes]`.
 * - any other value that looks like a JWT or a bearer credential: `[redacted: N chars]`.
 * - everything else as is.
 *
 * @internal
 * @example
 * ```ts
 * showMetadata(metadata); // { authorization: 'Bearer [redacted: 812 chars; expires in 3599 s; scopes orders.read]', 'x-request-id': 'r-1' }
 * ```
 */
export function showMetadata(metadata: Metadata, nowMs = Date.now()): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    shown[key] = values.map((value) => showValue(key, value, nowMs)).join(', ');
  }
  return shown;
}

function showValue(key: string, value: MetadataValue, nowMs: number): string {
  if (typeof value !== 'string')
    return value.length > maxShownBinaryBytes ? `[${value.length} bytes]` : value.toString('base64');
  if (key === 'authorization' || key === 'proxy-authorization') return showAuthorization(value, nowMs);
  if (secretKeys.has(key) || secretKeyWords.test(key) || credentialLike.test(value))
    return `[redacted: ${value.length} chars]`;
  return value;
}

/**
 * `text` from outside (a server's status details) with anything that looks like a JWT or a bearer
 * credential replaced by `[redacted]`: a careless server may echo the token it refused.
 *
 * @internal
 * @example
 * ```ts
 * redactCredentials('bad token eyJhbGciOi...'); // 'bad token [redacted]'
 * ```
 */
export function redactCredentials(text: string): string {
  return text.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[redacted]').replace(/\b(bearer|basic)\s+\S+/gi, '$1 [redacted]');
}

/**
 * An `authorization` value as scheme, length and (for a JWT) expiry and scopes.
 *
 * @internal
 * @example
 * ```ts
 * showAuthorization('Bearer eyJ...'); // 'Bearer [redacted: 812 chars; expires in 3599 s; scopes orders.read]'
 * ```
 */
function showAuthorization(value: string, nowMs = Date.now()): string {
  const space = value.indexOf(' ');
  const scheme = space < 0 ? '' : value.slice(0, space);
  const credential = space < 0 ? value : value.slice(space + 1);
  const facts = [`redacted: ${credential.length} chars`];
  const jwt = scheme.toLowerCase() === 'bearer' ? unverifiedJwt(credential) : undefined;
  if (jwt !== undefined) {
    const { exp } = jwt.claims;
    if (typeof exp === 'number')
      facts.push(`expires in ${Math.round(exp - nowMs / 1000)} s (${new Date(exp * 1000).toISOString()})`);
    const scopes = scopesOfClaims(jwt.claims);
    if (scopes !== undefined) facts.push(`scopes ${scopes.join(' ') || '(none)'}`);
  } else if (scheme.toLowerCase() === 'bearer') {
    facts.push('opaque');
  }
  return `${scheme === '' ? '' : `${scheme} `}[${facts.join('; ')}]`;
}
