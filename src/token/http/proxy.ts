import { Agent, EnvHttpProxyAgent, ProxyAgent, type Dispatcher } from 'undici';
import { AuthConfigError } from '../../common/config-error.js';
import { secretForms } from '../../common/redact.js';

/** The `proxy` option: a proxy URL, `false` for none, or `undefined` to follow the environment. */
export type ProxyOption = string | false;

/** How requests to the authorization server leave the process. */
export interface ProxyRoute {
  /** Handed to fetch; `undefined` leaves node's own (no proxy, since node's fetch ignores the environment). */
  readonly dispatcher: Dispatcher | undefined;
  /** Every form the proxy credentials travel in, to scrub from any text (`Proxy-Authorization`, the URL's user info). */
  readonly secrets: readonly string[];
}

/** TLS settings of connections to the authorization server: a client certificate (RFC 8705), a CA. */
export interface ClientTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Replaces Node's trusted roots when set. */
  readonly ca: Buffer | undefined;
}

/** The variables read when the `proxy` option is not given; the lower-case ones win, as undici and curl do. */
const proxyVariables = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

/**
 * Undici tunnels plain http through CONNECT by default; a forward request is what every HTTP proxy
 * understands and what curl sends, so only https targets are tunnelled.
 */
const agentOptions = { proxyTunnel: false } as const;

/**
 * Checks the `proxy` option: an `http:` or `https:` URL, or `false`. The message never shows the
 * value, which may hold the proxy's user name and password.
 */
export function checkProxyOption(value: unknown): ProxyOption | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value !== 'string') throw new AuthConfigError('proxy must be a proxy URL (http://host:port) or false');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuthConfigError('proxy is not a valid URL (its value is not shown: it may hold credentials)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AuthConfigError('proxy must be an http:// or https:// URL');
  return value;
}

/**
 * The route for token and discovery requests. With a `proxy` URL every request goes through it;
 * with `false` none does, whatever the environment says. Without the option, `HTTPS_PROXY` /
 * `HTTP_PROXY` / `NO_PROXY` (or their lower-case forms) decide, through undici's
 * `EnvHttpProxyAgent`; read when the manager is created (a bad URL there is an AuthConfigError).
 * Loopback is not special: a proxy set in the environment is used for `127.0.0.1` and `localhost`
 * too, unless `NO_PROXY` lists them. With `tls`, every connection to the server presents its client
 * certificate: directly (`connect`) or through the proxy's CONNECT tunnel (`requestTls`).
 *
 * @example
 * ```ts
 * const route = proxyRoute('http://proxy.internal:3128');
 * await fetch('https://auth.example.com/token', { dispatcher: route.dispatcher });
 * ```
 */
export function proxyRoute(
  option: ProxyOption | undefined,
  env: NodeJS.ProcessEnv = process.env,
  tls?: ClientTls,
): ProxyRoute {
  const connect = tls && { cert: tls.cert, key: tls.key, ...(tls.ca === undefined ? {} : { ca: tls.ca }) };
  if (option === false) return { dispatcher: new Agent({ connect }), secrets: [] };
  if (option !== undefined) {
    const dispatcher = new ProxyAgent({ uri: option, ...agentOptions, requestTls: connect });
    return { dispatcher, secrets: credentialForms(option) };
  }
  const configured = proxyVariables
    .map((name) => env[name])
    .filter((value): value is string => typeof value === 'string' && value !== '');
  // Node's own fetch presents no client certificate: with one, an Agent of ours even without a proxy.
  if (configured.length === 0) return { dispatcher: connect && new Agent({ connect }), secrets: [] };
  try {
    const dispatcher = new EnvHttpProxyAgent({ ...agentOptions, connect, requestTls: connect });
    return { dispatcher, secrets: configured.flatMap(credentialForms) };
  } catch {
    // undici's message quotes the URL, credentials and all.
    throw new AuthConfigError(
      `${proxyVariables.filter((name) => env[name]).join(' or ')} is not a valid proxy URL (its value is not shown: it may hold credentials)`,
    );
  }
}

/** The proxy URL's user info in every form it is sent or printed in: as written, decoded, and as undici's Basic credential. */
function credentialForms(proxyUrl: string): string[] {
  let url: URL;
  try {
    url = new URL(proxyUrl);
  } catch {
    return [];
  }
  if (url.password === '') return url.username === '' ? [] : secretForms(decodeURIComponent(url.username));
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  return [
    ...secretForms(password),
    `${url.username}:${url.password}`,
    `${user}:${password}`,
    Buffer.from(`${user}:${password}`).toString('base64'),
  ];
}
