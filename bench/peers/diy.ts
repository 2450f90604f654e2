// The do-it-yourself peer: what a user would write instead of this SDK, in about twenty lines.
// simple-oauth2's client-credentials grant, a token cached in a variable, and a metadata generator
// that refreshes inline once the token is within 60 s of expiry (`token.expired(60)`).
import * as grpc from '@grpc/grpc-js';
import { ClientCredentials, type AccessToken } from 'simple-oauth2';

export interface DiyOptions {
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
  /** Bench instrumentation only: told when the peer sends a token request. */
  readonly onTokenRequest?: () => void;
}

/** Call credentials as a careful user would hand-write them; compose them with TLS channel credentials. */
export function createDiyCallCredentials(options: DiyOptions): grpc.CallCredentials {
  const endpoint = new URL(options.tokenEndpoint);
  const oauth = new ClientCredentials({
    client: { id: options.clientId, secret: options.clientSecret },
    auth: { tokenHost: endpoint.origin, tokenPath: endpoint.pathname },
  });
  let token: AccessToken | undefined;

  async function authorization(): Promise<grpc.Metadata> {
    if (token === undefined || token.expired(60)) {
      options.onTokenRequest?.();
      token = await oauth.getToken({ scope: options.scope });
    }
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token.token.access_token}`);
    return metadata;
  }

  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    authorization().then(
      (metadata) => callback(null, metadata),
      (error: Error) => callback(error),
    );
  });
}
