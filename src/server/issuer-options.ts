// The issuers a server accepts tokens from: the one-issuer shorthand (issuer, audience, jwksUri and
// algorithms at the top of the options) or the `issuers` list, checked into one shape.
import { checkNonEmptyString, checkOptionNames } from '../common/option-checks.js';
import { AuthConfigError, authConfigError } from '../common/config-error.js';
import { asymmetricAlgorithms } from '../common/jws-algorithms.js';
import { jwksUrl } from './discovery.js';
import {
  resolveIntrospectionOptions,
  type IntrospectionOptions,
  type ResolvedIntrospectionOptions,
} from './introspection/options.js';

/** One issuer whose tokens the server accepts: an entry of the `issuers` option. */
export interface IssuerOptions {
  /** The issuer (`iss`, compared exactly), e.g. `'https://auth.example.com'`. Required. */
  issuer: string;
  /** The `aud` this server answers to for tokens of this issuer: a token must name one of them. Required. */
  audience: string | readonly string[];
  /** The issuer's JWKS. Default: the `jwks_uri` of its discovery document (RFC 8414, then OpenID Connect). */
  jwksUri?: string;
  /** JWS algorithms accepted from this issuer. Default: every asymmetric one jose supports; never `none` or `HS*`. */
  algorithms?: readonly string[];
  /**
   * Accept this issuer's opaque access tokens, asking its RFC 7662 introspection endpoint about each
   * (cached). Default: none (an opaque token is refused `malformed_token`). When several issuers
   * introspect, each must say with `tokenPrefixes` which tokens are its own.
   */
  introspection?: IntrospectionOptions;
}

/** An issuer, checked, with its defaults filled in. */
export interface ResolvedIssuer {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Set when given; else the keys come from the issuer's discovery document. */
  readonly jwksUri: URL | undefined;
  readonly algorithms: readonly string[];
  /** Set when the issuer's opaque tokens are introspected. */
  readonly introspection: ResolvedIntrospectionOptions | undefined;
}

/** The shorthand's names, at the top of the options. */
export const shorthandNames: readonly string[] = Object.freeze([
  'issuer',
  'audience',
  'jwksUri',
  'algorithms',
] satisfies (keyof IssuerOptions)[]);

const issuerOptionNames: readonly string[] = Object.freeze([...shorthandNames, 'introspection']);

/**
 * The issuers of `options`: its `issuers` list, or the one issuer of the shorthand. Giving both, or
 * neither, is an error; so is an issuer named twice (a token could not say which settings apply).
 *
 * @param where - the function whose options these are, for messages.
 * @throws AuthConfigError naming the option, e.g. `issuers[1].audience`.
 */
export function resolveIssuers(
  options: Record<string, unknown>,
  where: string,
  allowInsecureRequests: boolean,
): readonly ResolvedIssuer[] {
  const shorthand = shorthandNames.filter((name) => options[name] !== undefined);
  if (options.issuers === undefined) {
    if (shorthand.length === 0)
      throw new AuthConfigError(`${where} needs issuer and audience, or issuers: the issuers whose tokens it accepts`);
    return Object.freeze([resolveIssuer(options, `${where}:`, allowInsecureRequests)]);
  }
  if (shorthand.length > 0)
    throw new AuthConfigError(
      `${where}: give either issuers or ${shorthand.join(', ')} at the top, not both (move them into an issuers entry)`,
    );
  const list: unknown = options.issuers;
  if (!Array.isArray(list) || list.length === 0)
    throw new AuthConfigError(`${where}: issuers must be a non-empty array of { issuer, audience, ... }`);
  const issuers = list.map((entry: unknown, index) => {
    const name = `${where}: issuers[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new AuthConfigError(`${name} must be an object with issuer and audience`);
    checkOptionNames(entry, issuerOptionNames, `${name} option`);
    return resolveIssuer(entry as Record<string, unknown>, `${name}.`, allowInsecureRequests);
  });
  const seen = new Set<string>();
  for (const { issuer } of issuers) {
    if (seen.has(issuer))
      throw new AuthConfigError(`${where}: issuers names ${JSON.stringify(issuer)} twice; give each issuer once`);
    seen.add(issuer);
  }
  checkOpaqueRouting(issuers, where);
  return Object.freeze(issuers);
}

/** One issuer's settings; `prefix` names the option in messages (`"where:"` or `"where: issuers[0]."`). */
function resolveIssuer(entry: Record<string, unknown>, prefix: string, allowInsecureRequests: boolean): ResolvedIssuer {
  const name = (option: string): string => (prefix.endsWith(':') ? `${prefix} ${option}` : `${prefix}${option}`);
  const issuer = checkNonEmptyString(entry.issuer, name('issuer'));
  const jwksUri =
    entry.jwksUri === undefined
      ? undefined
      : jwksUrl(
          checkNonEmptyString(entry.jwksUri, name('jwksUri')),
          name('jwksUri'),
          allowInsecureRequests,
          authConfigError,
        );
  const introspection =
    entry.introspection === undefined
      ? undefined
      : resolveIntrospectionOptions(entry.introspection, name('').slice(0, -1), allowInsecureRequests);
  // Without jwksUri (or an introspection endpoint) the URLs come from the issuer's discovery
  // document: the same URL rules apply to the issuer.
  if (jwksUri === undefined || (introspection !== undefined && introspection.endpoint === undefined))
    jwksUrl(issuer, name('issuer'), allowInsecureRequests, authConfigError);
  return Object.freeze({
    issuer,
    audience: audienceOf(entry.audience, name('audience')),
    jwksUri,
    algorithms: algorithmsOf(entry.algorithms, name('algorithms')),
    introspection,
  });
}

/**
 * With several issuers introspecting, an opaque token must have one place to go: each of them names
 * its tokens' prefixes, and no prefix of one starts a prefix of another (a token would fit both).
 */
function checkOpaqueRouting(issuers: readonly ResolvedIssuer[], where: string): void {
  const introspecting = issuers.flatMap((entry, index) =>
    entry.introspection === undefined ? [] : [{ entry, index }],
  );
  if (introspecting.length < 2) return;
  const claimed: { prefix: string; index: number }[] = [];
  for (const { entry, index } of introspecting) {
    const prefixes = entry.introspection?.tokenPrefixes;
    if (prefixes === undefined)
      throw new AuthConfigError(
        `${where}: issuers[${index}].introspection.tokenPrefixes is required when several issuers introspect: an opaque token does not say its issuer, so each issuer names the prefixes of its tokens`,
      );
    for (const prefix of prefixes) {
      const other = claimed.find((seen) => seen.prefix.startsWith(prefix) || prefix.startsWith(seen.prefix));
      if (other !== undefined)
        throw new AuthConfigError(
          `${where}: the token prefix ${JSON.stringify(prefix)} of issuers[${index}] overlaps ${JSON.stringify(other.prefix)} of issuers[${other.index}]; a token would fit both`,
        );
      claimed.push({ prefix, index });
    }
  }
}

function audienceOf(value: unknown, name: string): readonly string[] {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (value === undefined || list.length === 0)
    throw new AuthConfigError(
      `${name} is required (a string or an array of strings): without it a token meant for another service would be accepted`,
    );
  return Object.freeze(list.map((entry) => checkNonEmptyString(entry, name)));
}

function algorithmsOf(value: unknown, name: string): readonly string[] {
  if (value === undefined) return asymmetricAlgorithms;
  if (!Array.isArray(value) || value.length === 0) throw new AuthConfigError(`${name} must be a non-empty array`);
  for (const alg of value) {
    if (typeof alg !== 'string' || !asymmetricAlgorithms.includes(alg)) {
      const shown = typeof alg === 'string' ? JSON.stringify(alg.slice(0, 20)) : typeof alg;
      throw new AuthConfigError(
        `${name}: algorithm ${shown} is not accepted; use asymmetric JWS algorithms (${asymmetricAlgorithms.join(', ')}), never none or HS*`,
      );
    }
  }
  return Object.freeze([...new Set(value as string[])]);
}
