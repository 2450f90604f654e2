// The oidc-provider configuration of test/helpers/oidc-provider.ts (which says why each feature is
// on), its in-memory storage, and a quiet load of the package.
import type * as OidcProviderModule from 'oidc-provider';
import type { Adapter, AdapterFactory, AdapterPayload, ClientMetadata, Configuration, JWK } from 'oidc-provider';

/** One resource server (RFC 8707 resource indicator) the provider issues access tokens for. */
export interface OidcResource {
  /** The resource indicator clients send as `resource`, an absolute URI. */
  readonly resource: string;
  /** The tokens' `aud`. Default: `resource`. */
  readonly audience?: string;
  /** Scopes a token for this resource may carry; requested scopes outside them are dropped. Default `['orders.read', 'orders.write']`. */
  readonly scopes?: readonly string[];
  /** `'jwt'` (RS256, `typ: at+jwt`, RFC 9068) or `'opaque'` (to be introspected). Default `'jwt'`. */
  readonly format?: 'jwt' | 'opaque';
  /** Access token lifetime, in seconds. Default: the provider's `ttlSec`. */
  readonly ttlSec?: number;
}

/** The clients every provider registers, by the name tests use. */
export type OidcClientName = 'basic' | 'post' | 'privateKeyJwt' | 'introspector';

/** What the configuration is built from. */
export interface ConfigurationInput {
  readonly resources: readonly OidcResource[];
  readonly defaultResource: string | undefined;
  readonly ttlSec: number;
  readonly introspectors: ReadonlySet<string>;
  readonly revokers: ReadonlySet<string>;
  readonly clients: readonly ClientMetadata[];
  /** The provider's private signing key (RS256, with `kid`). */
  readonly signingKey: JWK;
  /** oidc-provider's `invalid_target` error, for a resource indicator nobody configured. */
  readonly InvalidTarget: new () => Error;
  /** More configuration (the mutual-TLS mode's features.mTLS and discovery members); its features are added. Default none. */
  readonly extra?: Partial<Configuration>;
}

export function providerConfiguration(input: ConfigurationInput): Configuration {
  const byIndicator = new Map(input.resources.map((resource) => [resource.resource, resource]));
  const { features: extraFeatures, ...extra } = input.extra ?? {};
  return {
    ...extra,
    adapter: memoryAdapter(),
    jwks: { keys: [input.signingKey] },
    clients: [...input.clients],
    routes: { token: '/token', jwks: '/jwks', introspection: '/token/introspection', revocation: '/token/revocation' },
    features: {
      ...(extraFeatures as object),
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client) => input.introspectors.has(client.clientId),
      },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) =>
          token.clientId === client.clientId || input.revokers.has(client.clientId),
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? input.defaultResource,
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, indicator) => {
          const resource = byIndicator.get(indicator);
          if (resource === undefined) throw new input.InvalidTarget();
          return {
            scope: (resource.scopes ?? ['orders.read', 'orders.write']).join(' '),
            audience: resource.audience ?? resource.resource,
            accessTokenFormat: resource.format ?? 'jwt',
            accessTokenTTL: resource.ttlSec ?? input.ttlSec,
            ...(resource.format === 'opaque' ? {} : { jwt: { sign: { alg: 'RS256' } } }),
          };
        },
      },
    },
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? input.ttlSec,
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? input.ttlSec,
    },
  };
}

/**
 * Storage for one provider: a Map, its entries expiring on `Date.now()` like the provider's own
 * clock. Hand-written because oidc-provider's memory adapter is reachable only through an internal
 * path, warns on every start, and drops entries past about 1,000 (a benchmark issues more).
 * Client-credentials tokens have no grant, session or user code, so those lookups find nothing.
 */
function memoryAdapter(): AdapterFactory {
  const store = new Map<string, { payload: AdapterPayload; expiresAtMs: number }>();
  const live = (key: string): AdapterPayload | undefined => {
    const entry = store.get(key);
    if (entry === undefined || entry.expiresAtMs > Date.now()) return entry?.payload;
    store.delete(key);
    return undefined;
  };
  const done = Promise.resolve(undefined);
  return (model: string): Adapter => ({
    upsert(id, payload, expiresIn) {
      const expiresAtMs = expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000;
      store.set(`${model}:${id}`, { payload, expiresAtMs });
      return done;
    },
    find: (id) => Promise.resolve(live(`${model}:${id}`)),
    findByUid: () => done,
    findByUserCode: () => done,
    consume(id) {
      const payload = live(`${model}:${id}`);
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
      return done;
    },
    destroy(id) {
      store.delete(`${model}:${id}`);
      return done;
    },
    revokeByGrantId: () => done,
  });
}

let loading: Promise<typeof OidcProviderModule> | undefined;

/**
 * Loads oidc-provider once, without the one warning it prints on import under Node 20 ("Unsupported
 * runtime": it supports Node 22 LTS and later; the features used here work on 20). Anything else
 * written to the console meanwhile goes through.
 */
export function loadOidcProvider(): Promise<typeof OidcProviderModule> {
  return (loading ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]): void => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
      warn(...args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })());
}
