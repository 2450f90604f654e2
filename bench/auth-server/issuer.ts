// The authorization server of the server benchmark (run by issuer-worker.ts): oidc-provider on 127.0.0.1 (plain http, as in
// the tests), issuing RS256 access tokens by the client-credentials grant. A resource (RFC 8707)
// gets JWT access tokens; a second one gets opaque tokens, which variant (e) verifies by introspection here.
// The same provider also answers on an https port that verifies the caller's TLS client certificate:
// there its mTLS feature binds the tokens of the client registered for it to that certificate
// (RFC 8705 §3, `cnf.x5t#S256`).
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { exportJWK, generateKeyPair } from 'jose';
import type { TokenKind } from './protocol.js';
import { issuerClient } from './protocol.js';

/** Where the issuer listens, and what to ask it for. */
export interface IssuerAddresses {
  /** `http://127.0.0.1:<port>`: its discovery document is at `/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  /**
   * The same token endpoint on the https port, which asks for the caller's TLS client certificate;
   * the tokens of `issuerClient.boundClientId` are bound to it.
   */
  readonly mtlsTokenEndpoint: string;
  /** The resource to ask for per token kind; also the `aud` of the JWTs. */
  readonly resources: Readonly<Record<TokenKind, string>>;
}

/** PEM of the https port's certificate and key, and of the CA that verifies client certificates there. */
export interface IssuerTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface Issuer extends IssuerAddresses {
  close(): Promise<void>;
}

/** The part of oidc-provider 9.x used here. */
interface OidcProviderModule {
  default: new (issuer: string, configuration: object) => { callback(): RequestListener };
  errors: { InvalidTarget: new () => Error };
}

/**
 * oidc-provider, loaded by a specifier TypeScript does not resolve: its types are a separate package
 * (@types/oidc-provider), which this code does without.
 */
async function loadOidcProvider(): Promise<OidcProviderModule> {
  const specifier: string = 'oidc-provider';
  return (await import(specifier)) as OidcProviderModule;
}

const resources: Readonly<Record<TokenKind, string>> = {
  jwt: 'https://orders.bench.example',
  opaque: 'https://orders-opaque.bench.example',
  // The same resource: a bound token differs from a `jwt` one only by its `cnf`.
  boundJwt: 'https://orders.bench.example',
};

/** A token endpoint's caller's verified client certificate, for oidc-provider's `features.mTLS.getCertificate`. */
function clientCertificate(ctx: { readonly socket: unknown }) {
  return ctx.socket instanceof TLSSocket ? ctx.socket.getPeerX509Certificate() : undefined;
}

function listen(server: Server | HttpsServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server | HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Runs `work` with oidc-provider's start-up notices left out of the bench's output: the Node 20
 * runtime and the in-memory adapter it warns about are what a benchmark wants.
 */
async function withoutProviderNotices<T>(work: () => Promise<T>): Promise<T> {
  const { warn, info } = console;
  const keep =
    (write: (...args: unknown[]) => void) =>
    (...args: unknown[]): void => {
      if (!(typeof args[0] === 'string' && args[0].startsWith('oidc-provider '))) write(...args);
    };
  console.warn = keep(warn);
  console.info = keep(info);
  try {
    return await work();
  } finally {
    console.warn = warn;
    console.info = info;
  }
}

export async function startIssuer(tls: IssuerTls): Promise<Issuer> {
  const server: Server = createServer();
  const issuer = `http://127.0.0.1:${await listen(server)}`;
  // rejectUnauthorized: only a certificate of the bench's CA gets through, as a real mTLS endpoint would have it.
  const mtlsServer = createHttpsServer({ ...tls, requestCert: true, rejectUnauthorized: true });
  const mtlsTokenEndpoint = `https://127.0.0.1:${await listen(mtlsServer)}/token`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
  const provider = await withoutProviderNotices(async () => {
    const { default: Provider, errors } = await loadOidcProvider();
    return new Provider(issuer, {
      jwks: { keys: [signingKey] },
      clients: [
        {
          client_id: issuerClient.clientId,
          client_secret: issuerClient.clientSecret,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          scope: issuerClient.scope,
        },
        {
          client_id: issuerClient.boundClientId,
          client_secret: issuerClient.clientSecret,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          scope: issuerClient.scope,
          tls_client_certificate_bound_access_tokens: true,
        },
      ],
      scopes: [issuerClient.scope],
      ttl: { ClientCredentials: 3600 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        mTLS: { enabled: true, certificateBoundAccessTokens: true, getCertificate: clientCertificate },
        resourceIndicators: {
          enabled: true,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string) => {
            const kind = (Object.keys(resources) as TokenKind[]).find((k) => resources[k] === resource);
            if (kind === undefined) throw new errors.InvalidTarget();
            return {
              scope: issuerClient.scope,
              audience: resource,
              accessTokenFormat: kind,
              accessTokenTTL: 3600,
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
    });
  });
  server.on('request', provider.callback());
  mtlsServer.on('request', provider.callback());
  return {
    issuer,
    tokenEndpoint: `${issuer}/token`,
    mtlsTokenEndpoint,
    resources,
    close: async () => {
      await Promise.all([close(server), close(mtlsServer)]);
    },
  };
}
