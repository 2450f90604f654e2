// The issuers a server accepts tokens from: the one-issuer shorthand (issuer, audience, jwksUri and
// algorithms at the top of the options) or the `issuers` list, checked into one shape.
import { checkNonEmptyString, checkOptionNames } from '../common/option-checks.js';
import { AuthConfigError, authConfigError } from '../common/config-error.js';
import { asymmetricAlgorithms } from '../common/jws-algorithms.js';
import { jwksUrl } from './discovery.js';

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
}

/** An issuer, checked, with its defaults filled in. */
export interface ResolvedIssuer {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Set when given; else the keys come from the issuer's discovery document. */
  readonly jwksUri: URL | undefined;
  readonly algorithms: readonly string[];
}

const issuerOptionNames = Object.freeze([
  'issuer',
  'audience',
  'jwksUri',
  'algorithms',
] satisfies (keyof IssuerOptions)[]);

/** The shorthand's names, at the top of the options. */
export const shorthandNames: readonly string[] = issuerOptionNames;

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
  // Without jwksUri the keys come from the issuer's discovery document: the same URL rules apply.
  if (jwksUri === undefined) jwksUrl(issuer, name('issuer'), allowInsecureRequests, authConfigError);
  return Object.freeze({
    issuer,
    audience: audienceOf(entry.audience, name('audience')),
    jwksUri,
    algorithms: algorithmsOf(entry.algorithms, name('algorithms')),
  });
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
