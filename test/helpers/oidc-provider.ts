// Real authorization servers for the receiving side's tests: oidc-provider (npm) on 127.0.0.1,
// issuing client-credentials access tokens the SDK's ./server must verify or introspect.
//
// What is on, and why (the configuration is in oidc-provider-config.ts):
// - features.clientCredentials: the grant service accounts use (TokenManager's grant).
// - features.resourceIndicators (RFC 8707): each resource is an API with its own audience, scopes,
//   token format and lifetime, like an IdP's "API" settings. getResourceServerInfo serves the
//   configured resources (an unknown one is `invalid_target`); defaultResource gives a request
//   without `resource` the first one (a token with no audience cannot be a JWT); useGrantedResource
//   is off (it concerns authorization-code grants only).
// - accessTokenFormat per resource: 'jwt' (RS256, `typ: at+jwt`, RFC 9068) or 'opaque' (random
//   string, stored here, only understood through introspection).
// - features.introspection (RFC 7662): answers only the clients in `introspectors` (default the
//   `introspector` client, standing for the resource server); others get `active: false`, as real
//   IdPs answer a client that may not introspect.
// - features.revocation (RFC 7009): a token's own client or a client in `revokers` (default the
//   introspector) may revoke; revoked opaque tokens then introspect inactive.
// - jwks: one RS256 key generated with jose per instance, so two instances are two issuers whose
//   keys verify only their own tokens.
// - Off: devInteractions (no user login here); every default helper that logs a notice when called
//   is replaced, so the provider prints nothing. Its server errors (500s) are printed with
//   console.error. Issuing over http on 127.0.0.1 is for tests only.
//
// Time: oidc-provider takes no clock; it reads Date.now() (token iat/exp, expiry of stored tokens,
// here too). Prefer tests that need no IdP time: revoke a token to make it inactive, and move the
// SDK's ManualClock past a token's `exp` (./server checks `exp` itself). Where the IdP's own expiry
// matters, node:test's `mock.timers.enable({ apis: ['Date'], now })` and `tick(ms)` move it (Date
// for the whole process; timers stay real); on Node 20 that prints an ExperimentalWarning once per
// process, so do it in a child run with --disable-warning=ExperimentalWarning, as the smoke test does.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { Agent } from 'undici';
import type { Configuration } from 'oidc-provider';
import { mtlsClientMetadata, mtlsConfiguration, type OidcMtlsOptions } from './oidc-provider-mtls.js';
import {
  loadOidcProvider,
  providerConfiguration,
  type OidcClientName,
  type OidcResource,
} from './oidc-provider-config.js';

export type { OidcClientName, OidcResource } from './oidc-provider-config.js';
export { mtlsClients, type MtlsClient, type OidcMtlsOptions } from './oidc-provider-mtls.js';

/** Options of {@link startOidcProvider}; every one optional. */
export interface OidcProviderOptions {
  /** The APIs tokens are issued for. Default: `https://orders.example.test`, JWT, `orders.read orders.write`. */
  readonly resources?: readonly OidcResource[];
  /** Resource of a token request without `resource`. Default: the first of `resources`; `null` for none. */
  readonly defaultResource?: string | null;
  /** Access token lifetime of resources without their own, in seconds. Default 3600. */
  readonly ttlSec?: number;
  /** Clients whose introspection requests get answers. Default `['introspector']`. */
  readonly introspectors?: readonly OidcClientName[];
  /** Clients that may revoke tokens of other clients. Default `['introspector']`. */
  readonly revokers?: readonly OidcClientName[];
  /**
   * Serve https with oidc-provider's mutual-TLS feature (RFC 8705) and register {@link mtlsClients}
   * (see oidc-provider-mtls.ts). Default: plain http, no mutual TLS.
   */
  readonly mtls?: OidcMtlsOptions;
  /**
   * oidc-provider's DPoP feature (RFC 9449): `enabled: false` turns it off (DPoP headers ignored,
   * bearer tokens); `requireNonce: true` makes token requests need its `DPoP-Nonce`. Default: the
   * provider's own (on, no nonce).
   */
  readonly dpop?: { readonly enabled?: boolean; readonly requireNonce?: boolean };
}

/** A client secret client, spreadable into `TokenManagerOptions`. */
export interface SecretClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientAuthMethod: 'client_secret_basic' | 'client_secret_post';
}

/** The private_key_jwt client, spreadable into `TokenManagerOptions` (the JWK carries `kid` and `alg`). */
export interface PrivateKeyClient {
  readonly clientId: string;
  readonly privateKey: JWK;
  readonly clientAuthMethod: 'private_key_jwt';
}

/** The endpoints whose requests are counted; `discovery` is either well-known URL (oidc-provider serves both). */
export type OidcEndpoint = 'discovery' | 'jwks' | 'token' | 'introspection' | 'revocation';

/** A running provider; see {@link startOidcProvider}. */
export interface OidcProvider {
  /** `http://127.0.0.1:PORT`: the `iss` of its tokens, and where discovery starts. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  readonly introspectionEndpoint: string;
  readonly revocationEndpoint: string;
  /** The registered clients, all allowed the client-credentials grant. */
  readonly clients: {
    readonly basic: SecretClient;
    readonly post: SecretClient;
    readonly privateKeyJwt: PrivateKeyClient;
    /** The resource server's client: introspects and revokes (by default). */
    readonly introspector: SecretClient;
  };
  /** Requests received so far, by endpoint (counted as they arrive). */
  readonly requests: Readonly<Record<OidcEndpoint, number>>;
  /** With `mtls.alias`: the alias listener's token endpoint, as the discovery document names it. */
  readonly mtlsTokenEndpoint?: string;
  /** Requests the alias listener received (with `mtls.alias`). */
  readonly aliasRequests: { readonly token: number };
  /** A token from the `basic` client by plain fetch; throws with the error code when refused. */
  issueToken(request?: { resource?: string; scope?: string }): Promise<{
    accessToken: string;
    expiresIn: number;
    scope: string | undefined;
  }>;
  /** The introspection answer for `token`, asked as the introspector client. */
  introspect(token: string): Promise<Record<string, unknown>>;
  /** Revokes `token` as the introspector client. */
  revoke(token: string): Promise<void>;
  /** Stops listening and drops open connections, keeping every issued token (an outage). */
  stop(): Promise<void>;
  /** Listens again on the same port after {@link stop}. */
  restart(): Promise<void>;
  /** Stops the server for good; idempotent. Nothing of it keeps the process alive. */
  close(): Promise<void>;
}

/** The resource tokens are issued for unless a test says otherwise (the server fixture's audience). */
export const defaultResource: OidcResource = {
  resource: 'https://orders.example.test',
  scopes: ['orders.read', 'orders.write'],
};

/**
 * Starts oidc-provider on 127.0.0.1 (a free port). Each call is a separate issuer with its own keys,
 * clients' secrets and stored tokens: call it twice for two issuers. Close it with `close()`
 * (`t.after(() => provider.close())`).
 */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProvider> {
  const { Provider, errors } = await loadOidcProvider();
  const resources = options.resources ?? [defaultResource];
  const secret = (): string => randomBytes(32).toString('base64url');
  const clients = {
    basic: { clientId: 'orders-basic', clientSecret: secret(), clientAuthMethod: 'client_secret_basic' },
    post: { clientId: 'orders-post', clientSecret: secret(), clientAuthMethod: 'client_secret_post' },
    privateKeyJwt: await privateKeyClient('orders-jwt'),
    introspector: { clientId: 'resource-server', clientSecret: secret(), clientAuthMethod: 'client_secret_basic' },
  } as const satisfies OidcProvider['clients'];
  const { mtls } = options;
  const idsOf = (names: readonly OidcClientName[]): Set<string> => new Set(names.map((n) => clients[n].clientId));
  const grant = { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] };

  // Listening first: the issuer names the port.
  const requests: Record<OidcEndpoint, number> = { discovery: 0, jwks: 0, token: 0, introspection: 0, revocation: 0 };
  const aliasRequests = { token: 0 };
  const listener = (): Server =>
    mtls === undefined
      ? createServer()
      : createHttpsServer({
          cert: mtls.serverCert,
          key: mtls.serverKey,
          ca: mtls.ca,
          requestCert: true,
          rejectUnauthorized: false,
        });
  const http = listener().on('request', (req: IncomingMessage) => {
    const endpoint = endpointPaths.get((req.url ?? '').split('?', 1)[0]!);
    if (endpoint !== undefined) requests[endpoint]++;
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const issuer = `${mtls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  const alias = mtls?.alias ? listener() : undefined;
  alias?.on('request', (req: IncomingMessage) => {
    if ((req.url ?? '').split('?', 1)[0] === '/token') aliasRequests.token++;
  });
  if (alias !== undefined) await new Promise<void>((resolve) => alias.listen(0, '127.0.0.1', resolve));
  const mtlsTokenEndpoint = alias && `https://127.0.0.1:${(alias.address() as AddressInfo).port}/token`;
  const configuration = providerConfiguration({
    resources,
    defaultResource: options.defaultResource === null ? undefined : (options.defaultResource ?? resources[0]?.resource),
    ttlSec: options.ttlSec ?? 3600,
    introspectors: idsOf(options.introspectors ?? ['introspector']),
    revokers: idsOf(options.revokers ?? ['introspector']),
    clients: [
      ...[clients.basic, clients.post, clients.introspector].map((client) => ({
        ...grant,
        client_id: client.clientId,
        client_secret: client.clientSecret,
        token_endpoint_auth_method: client.clientAuthMethod,
      })),
      {
        ...grant,
        client_id: clients.privateKeyJwt.clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [publicPart(clients.privateKeyJwt.privateKey)] },
      },
      ...(mtls === undefined ? [] : await mtlsClientMetadata(mtls)),
    ],
    signingKey: await signingKey(),
    InvalidTarget: errors.InvalidTarget,
    extra: withDpop(mtls && mtlsConfiguration(mtlsTokenEndpoint), options.dpop),
  });
  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (ctx: { path: string }, error: unknown) =>
    console.error(`oidc-provider (${issuer}) server_error at ${ctx.path}:`, error),
  );
  const handle = provider.callback();
  http.on('request', (req, res) => void handle(req, res));
  alias?.on('request', (req, res) => void handle(req, res));
  // The harness's own requests (issueToken, introspect) trust the test CA in the mutual-TLS mode.
  const dispatcher = mtls && new Agent({ connect: { ca: mtls.ca } });

  const post = (path: string, client: SecretClient, form: Record<string, string | undefined>): Promise<Response> => {
    const credentials = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
    const fields = Object.entries(form).filter((entry): entry is [string, string] => entry[1] !== undefined);
    return fetch(`${issuer}${path}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
      body: new URLSearchParams(fields),
      ...(dispatcher && { dispatcher }),
    } as RequestInit);
  };
  let closed = false;
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!http.listening) return resolve();
      http.close(() => resolve());
      http.closeAllConnections();
    });
  const closeAlias = (): Promise<void> =>
    new Promise((resolve) => {
      if (!alias?.listening) return resolve();
      alias.close(() => resolve());
      alias.closeAllConnections();
    });

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    tokenEndpoint: `${issuer}/token`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    revocationEndpoint: `${issuer}/token/revocation`,
    clients,
    requests,
    mtlsTokenEndpoint,
    aliasRequests,
    async issueToken({ resource, scope } = {}) {
      const response = await post('/token', clients.basic, { grant_type: 'client_credentials', resource, scope });
      const answer = (await response.json()) as Record<string, unknown>;
      if (!response.ok) throw new Error(`token request refused: ${String(answer.error)}`);
      return {
        accessToken: answer.access_token as string,
        expiresIn: answer.expires_in as number,
        scope: answer.scope as string | undefined,
      };
    },
    async introspect(token) {
      const response = await post('/token/introspection', clients.introspector, { token });
      if (!response.ok) throw new Error(`introspection answered HTTP ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    },
    async revoke(token) {
      const response = await post('/token/revocation', clients.introspector, { token });
      if (!response.ok) throw new Error(`revocation answered HTTP ${response.status}`);
    },
    stop: stopListening,
    async restart() {
      if (closed) throw new Error('restart() after close()');
      await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      closed = true;
      await Promise.all([stopListening(), closeAlias(), dispatcher?.close()]);
    },
  };
}

/** Paths of the counted endpoints (the routes set in oidc-provider-config.ts). */
const endpointPaths = new Map<string, OidcEndpoint>([
  ['/.well-known/oauth-authorization-server', 'discovery'],
  ['/.well-known/openid-configuration', 'discovery'],
  ['/jwks', 'jwks'],
  ['/token', 'token'],
  ['/token/introspection', 'introspection'],
  ['/token/revocation', 'revocation'],
]);

/** The provider's RS256 signing key, private, as oidc-provider's `jwks` takes it. */
async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

async function privateKeyClient(clientId: string): Promise<PrivateKeyClient> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256' };
  return { clientId, privateKey: jwk, clientAuthMethod: 'private_key_jwt' };
}

/** The public members of an EC private JWK. */
function publicPart({ kty, crv, x, y, kid, alg }: JWK): JWK {
  return { kty, crv, x, y, kid, alg, use: 'sig' };
}

/** `extra` with the DPoP feature as {@link OidcProviderOptions.dpop} asks; a nonce needs a secret to make it from. */
function withDpop(
  extra: Partial<Configuration> | undefined,
  dpop: OidcProviderOptions['dpop'],
): Partial<Configuration> | undefined {
  if (dpop === undefined) return extra;
  const nonce = dpop.requireNonce === true && { nonceSecret: randomBytes(32), requireNonce: () => true };
  return { ...extra, features: { ...extra?.features, dPoP: { enabled: dpop.enabled ?? true, ...nonce } } };
}
