import { checkNonEmptyString } from '../checks.js';
import { TokenError, configError } from '../errors.js';

/**
 * An http(s) URL without credentials, for the option or file field `what`; `http:` only with
 * `allowInsecureRequests`, else an `insecure_endpoint` TokenError, since the client's credentials
 * would cross the network in plaintext.
 */
export function checkedEndpoint(value: unknown, what: string, allowInsecureRequests: boolean): string {
  const text = checkNonEmptyString(value, what, configError);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError(`${what} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError(`${what} must be an https URL`);
  if (url.protocol === 'http:' && !allowInsecureRequests) {
    throw new TokenError(
      'insecure_endpoint',
      `${what} is http://; credentials would cross the network in plaintext. Use https, or set allowInsecureRequests: true for local tests`,
    );
  }
  if (url.username || url.password) throw configError(`${what} must not contain credentials`);
  return text;
}

/** A URL as safe to print: no user info, query or fragment. */
export function describeEndpoint(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
