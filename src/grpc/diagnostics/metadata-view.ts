import type { Metadata, MetadataValue } from '@grpc/grpc-js';
import { isoDateOfClaim, scopesOfClaims, unverifiedJwt } from '../../token/unverified-claims.js';

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
 * The raw values of `metadata` that {@link showMetadata} redacted in `shown` (an `authorization`
 * value's credential as well as the whole value), to redact again wherever the server echoes them.
 *
 * @internal
 * @example
 * ```ts
 * redactedValues(metadata, showMetadata(metadata)); // ['Bearer eyJ...', 'eyJ...']
 * ```
 */
export function redactedValues(metadata: Metadata, shown: Readonly<Record<string, string>>): string[] {
  const values: string[] = [];
  for (const [key, sent] of Object.entries(metadata.toJSON())) {
    if (!shown[key]?.includes('[redacted')) continue;
    for (const value of sent) {
      if (typeof value !== 'string') continue;
      values.push(value);
      const space = value.indexOf(' ');
      if (space >= 0 && (key === 'authorization' || key === 'proxy-authorization')) values.push(value.slice(space + 1));
    }
  }
  return values;
}

/** A credential after an authorization scheme: RFC 6750 §2.1 b64token (Basic's base64 and DPoP's are too). */
const schemeAndCredential = /\b(bearer|basic|dpop)(\s+)([A-Za-z0-9\-._~+/]+=*)/gi;
/**
 * A word of a sentence, which a credential is not: letters (one capital first, or all capitals),
 * hyphenated parts, a full stop at the end; at most 20 characters. An opaque token of letters alone,
 * mixed case or longer, is redacted.
 */
const englishWord = /^(?=.{1,20}$)(?:[A-Z]?[a-z]+|[A-Z]+)(?:-(?:[A-Z]?[a-z]+|[A-Z]+))*\.?$/;

/**
 * `text` from outside (a server's status details) with anything that looks like a JWT, or like a
 * credential after `Bearer`, `Basic` or `DPoP`, replaced by `[redacted]`: a careless server may echo
 * the token it refused. What follows a scheme is kept when it is a word (`bearer token audience is
 * not this server` stays readable); a hand-written check, since no library tells English from a token.
 *
 * @internal
 * @example
 * ```ts
 * redactCredentials('bad token eyJhbGciOi...'); // 'bad token [redacted]'
 * redactCredentials('got Bearer abc123.def'); // 'got Bearer [redacted]'
 * ```
 */
export function redactCredentials(text: string): string {
  return text
    .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[redacted]')
    .replace(schemeAndCredential, (match, scheme: string, space: string, credential: string) =>
      englishWord.test(credential) ? match : `${scheme}${space}[redacted]`,
    );
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
      facts.push(
        `expires in ${Math.round(exp - nowMs / 1000)} s (${isoDateOfClaim(exp) ?? 'out of range for a date'})`,
      );
    const scopes = scopesOfClaims(jwt.claims);
    if (scopes !== undefined) facts.push(`scopes ${scopes.join(' ') || '(none)'}`);
  } else if (scheme.toLowerCase() === 'bearer') {
    facts.push('opaque');
  }
  return `${scheme === '' ? '' : `${scheme} `}[${facts.join('; ')}]`;
}
