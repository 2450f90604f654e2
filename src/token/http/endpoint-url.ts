import { warnOnce } from '../../common/warn-once.js';
import { AuthConfigError } from '../../common/config-error.js';
import { checkNonEmptyString } from '../../common/option-checks.js';

/**
 * An http(s) URL without credentials, for the option or file field `what`, checked at construction:
 * anything else is an AuthConfigError naming it. `http:` only with `allowInsecureRequests`, since the
 * client's credentials would cross the network in plaintext.
 */
export function checkedEndpoint(value: unknown, what: string, allowInsecureRequests: boolean): string {
  const text = checkNonEmptyString(value, what);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AuthConfigError(`${what} is not a valid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AuthConfigError(`${what} must be an https URL`);
  if (url.protocol === 'http:' && !allowInsecureRequests) {
    throw new AuthConfigError(
      `${what} is http://; credentials would cross the network in plaintext. Use https, or set allowInsecureRequests: true for local tests`,
    );
  }
  if (url.username || url.password) throw new AuthConfigError(`${what} must not contain credentials`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) warnInsecureEndpointOnce(what);
  return text;
}

/** Loopback names and addresses (a URL's `hostname`): plaintext there never leaves the machine. */
export function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}

/**
 * `allowInsecureRequests` is meant for tests on loopback; for any other host the client's credentials
 * and its tokens cross a network in plaintext. Allowed (some test rigs use a container name), but
 * said once per process.
 */
function warnInsecureEndpointOnce(what: string): void {
  warnOnce(
    'GRPC_OAUTH2_INSECURE_ENDPOINT',
    'InsecureEndpointWarning',
    `${what} is http:// on a host that is not loopback: client credentials and access tokens will cross the network in PLAINTEXT ` +
      '(allowInsecureRequests is set). Use https outside local tests.',
  );
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
