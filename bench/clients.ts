// The clients under comparison. Each is a grpc-js Client for the bench server plus the metadata its
// calls carry; they differ only in how the `authorization` header gets there.
import * as grpc from '@grpc/grpc-js';
import {
  TokenManager,
  createAuthInterceptor,
  createChannelCredentials,
  type AuthInterceptorOptions,
  type TokenManagerOptions,
} from '../src/index.js';
import { createDiyCallCredentials, type DiyOptions } from './peers/diy.js';
import { benchClient } from './server/protocol.js';
import type { ServerAddresses } from './server/server-process.js';

/** A client and what each of its calls sends as metadata. */
export interface BenchClient {
  readonly client: grpc.Client;
  /** Metadata for one call: a new object per call, as grpc-js adds its own headers to it. */
  metadata(): grpc.Metadata;
}

// The certificate names localhost; connecting to 127.0.0.1 under that name avoids ::1 and Node's
// warning about an IP address as TLS server name.
const channelOptions: grpc.ClientOptions = {
  'grpc.ssl_target_name_override': 'localhost',
  'grpc.default_authority': 'localhost',
};

const emptyMetadata = (): grpc.Metadata => new grpc.Metadata();

/** TLS channel credentials trusting the bench server's CA. */
export function tlsCredentials(servers: ServerAddresses): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(servers.caCert));
}

/** A TokenManager for the bench server's MockTokenServer (plain http on loopback). */
export function createTokenManager(servers: ServerAddresses, extra: TokenManagerOptions = {}): TokenManager {
  return new TokenManager({
    tokenEndpoint: servers.tokenEndpoint,
    clientId: benchClient.clientId,
    clientSecret: benchClient.clientSecret,
    scopes: [benchClient.scope],
    allowInsecureRequests: true,
    ...extra,
  });
}

/** The limit: the same client sending a precomputed `authorization` header, no token logic at all. */
export function staticHeaderClient(servers: ServerAddresses, authorization: string): BenchClient {
  return withStaticHeader(new grpc.Client(servers.grpcAddress, tlsCredentials(servers), channelOptions), authorization);
}

/** `client` (its connection) with calls that carry a precomputed `authorization` header. */
export function withStaticHeader(client: grpc.Client, authorization: string): BenchClient {
  return {
    client,
    metadata() {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', authorization);
      return metadata;
    },
  };
}

/** A client of a mutual-TLS port at `address`, trusting `caCert` and presenting `certificate`. */
export function mutualTlsClient(
  address: string,
  caCert: string,
  certificate: { readonly keyBuffer: Buffer; readonly certBuffer: Buffer },
): grpc.Client {
  const credentials = grpc.credentials.createSsl(Buffer.from(caCert), certificate.keyBuffer, certificate.certBuffer);
  return new grpc.Client(address, credentials, channelOptions);
}

/**
 * The floor of channel credentials: grpc-js call credentials that attach a precomputed header, with no
 * token logic. What separates it from the static header is grpc-js's own cost of call credentials,
 * which any way of attaching a token through them pays.
 */
export function constantCallCredentialsClient(servers: ServerAddresses, authorization: string): BenchClient {
  const callCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', authorization);
    callback(null, metadata);
  });
  const credentials = grpc.credentials.combineChannelCredentials(tlsCredentials(servers), callCredentials);
  return { client: new grpc.Client(servers.grpcAddress, credentials, channelOptions), metadata: emptyMetadata };
}

/**
 * The floor of an interceptor: the smallest interceptor that attaches a token, adding a precomputed
 * header to the metadata as the call starts. What separates it from the static header is the cost of
 * an interceptor layer in grpc-js.
 */
export function constantInterceptorClient(servers: ServerAddresses, authorization: string): BenchClient {
  const interceptor: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set('authorization', authorization);
        next(metadata, listener);
      },
    });
  return {
    client: new grpc.Client(servers.grpcAddress, tlsCredentials(servers), {
      ...channelOptions,
      interceptors: [interceptor],
    }),
    metadata: emptyMetadata,
  };
}

/** The SDK's interceptor (DESIGN.md option 2). */
export function interceptorClient(
  servers: ServerAddresses,
  tokens: TokenManager,
  options: Omit<AuthInterceptorOptions, 'channelCredentials'> = {},
): BenchClient {
  const tls = tlsCredentials(servers);
  const interceptor = createAuthInterceptor(tokens, { ...options, channelCredentials: tls });
  return {
    client: new grpc.Client(servers.grpcAddress, tls, { ...channelOptions, interceptors: [interceptor] }),
    metadata: emptyMetadata,
  };
}

/** The SDK's channel credentials (DESIGN.md option 1). */
export function channelCredentialsClient(servers: ServerAddresses, tokens: TokenManager): BenchClient {
  const credentials = createChannelCredentials(tlsCredentials(servers), tokens);
  return { client: new grpc.Client(servers.grpcAddress, credentials, channelOptions), metadata: emptyMetadata };
}

/** The do-it-yourself peer (peers/diy.ts), composed into the channel as its author would. */
export function diyClient(servers: ServerAddresses, hooks: Pick<DiyOptions, 'onTokenRequest'> = {}): BenchClient {
  const callCredentials = createDiyCallCredentials({
    tokenEndpoint: servers.tokenEndpoint,
    clientId: benchClient.clientId,
    clientSecret: benchClient.clientSecret,
    scope: benchClient.scope,
    ...hooks,
  });
  const credentials = grpc.credentials.combineChannelCredentials(tlsCredentials(servers), callCredentials);
  return { client: new grpc.Client(servers.grpcAddress, credentials, channelOptions), metadata: emptyMetadata };
}

/** Every client the side-by-side figures compare, by name. */
const variants = {
  staticHeader: {
    label: 'static',
    open: (servers, _tokens, authorization) => staticHeaderClient(servers, authorization),
  },
  staticHeaderTwin: {
    label: 'static (second client)',
    open: (servers, _tokens, authorization) => staticHeaderClient(servers, authorization),
  },
  interceptor: { label: 'interceptor', open: (servers, tokens) => interceptorClient(servers, tokens) },
  // Without the replay of a call whose token the server rejected, to show what that feature costs.
  interceptorNoReplay: {
    label: 'interceptor, no replay',
    open: (servers, tokens) => interceptorClient(servers, tokens, { retryOnUnauthenticated: false }),
  },
  interceptorFloor: {
    label: 'minimal interceptor',
    open: (servers, _tokens, authorization) => constantInterceptorClient(servers, authorization),
  },
  channelCredentials: {
    label: 'channel credentials',
    open: (servers, tokens) => channelCredentialsClient(servers, tokens),
  },
  channelFloor: {
    label: 'constant call credentials',
    open: (servers, _tokens, authorization) => constantCallCredentialsClient(servers, authorization),
  },
  diy: { label: 'diy', open: (servers) => diyClient(servers) },
} satisfies Record<
  string,
  {
    readonly label: string;
    readonly open: (servers: ServerAddresses, tokens: TokenManager, authorization: string) => BenchClient;
  }
>;

export type ClientVariant = keyof typeof variants;

/** How a figure names a variant: `static`, `minimal interceptor`, ... */
export function variantLabel(variant: ClientVariant): string {
  return variants[variant].label;
}

/**
 * One client for each of `names`. The clients without token logic send the TokenManager's current
 * token, so that every variant's requests have the same size.
 */
export async function openClients<V extends ClientVariant>(
  servers: ServerAddresses,
  tokens: TokenManager,
  names: readonly V[],
): Promise<Record<V, BenchClient>> {
  const authorization = `Bearer ${(await tokens.getToken()).accessToken}`;
  return Object.fromEntries(names.map((name) => [name, variants[name].open(servers, tokens, authorization)])) as Record<
    V,
    BenchClient
  >;
}

/** Closes every client of {@link openClients} (or of the server benchmark's), each connection once. */
export function closeClients(clients: Readonly<Record<string, BenchClient>>): void {
  for (const client of new Set(Object.values(clients).map((bench) => bench.client))) client.close();
}
