// What a TypeScript user's project compiles: .ci/typescript-floor type-checks this file against the
// packed tarball with the oldest TypeScript we support (5.1), `skipLibCheck: false`, nodenext.
import * as grpc from '@grpc/grpc-js';
import {
  TokenManager,
  createChannelCredentials,
  createAuthInterceptor,
  type TokenManagerOptions,
} from 'grpc-oauth2-credentials';
import { MockTokenServer, ManualClock, createTestCertificates } from 'grpc-oauth2-credentials/testing';
import { createServerAuthInterceptor } from 'grpc-oauth2-credentials/server';

const options: TokenManagerOptions = {
  tokenEndpoint: 'https://auth.example.com/token',
  clientId: 'orders-svc',
  clientSecretFile: '/run/secret',
  clientAuthMethod: 'client_secret_post',
};
const tokens = new TokenManager(options);
const tls = grpc.credentials.createSsl();
export const credentials = createChannelCredentials(tls, tokens);
export const interceptor = createAuthInterceptor(tokens, { channelCredentials: tls, scopesFor: () => ['orders.read'] });
export const kit = [MockTokenServer, ManualClock, createTestCertificates, createServerAuthInterceptor] as const;
