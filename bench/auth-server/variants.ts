// The server interceptor of each variant (protocol.ts lists them), built once in the auth server
// process and switched between rounds.
import * as grpc from '@grpc/grpc-js';
import { createAuthorizationPolicyInterceptor, createServerAuthInterceptor } from '../../src/server/index.js';
import { createDiyServerInterceptor } from '../peers/diy-server.js';
import { echoService } from '../server/echo-service.js';
import { fiftyRulePolicy } from './authz-policy.js';
import { issuerClient, type ServerVariant } from './protocol.js';

/** What every variant verifies tokens against. */
export interface VariantContext {
  readonly issuer: string;
  /** The `aud` of the JWT access tokens. */
  readonly audience: string;
  /** The `aud` of the opaque access tokens. */
  readonly opaqueAudience: string;
  /** The issuer's JWKS, from its discovery document, for the do-it-yourself interceptor. */
  readonly jwksUri: URL;
}

/** Every variant's policy: the one method, needing the one scope the tokens carry. */
const methods = { [echoService.Unary.path]: [issuerClient.scope] };

/** The baseline: grpc-js's intercepting call with its default listener and responder, which forward everything. */
const passThrough: grpc.ServerInterceptor = (_descriptor, nextCall) => new grpc.ServerInterceptingCall(nextCall);

/** The SDK accepting the issuer's opaque tokens through its introspection endpoint. */
function introspecting({ issuer, opaqueAudience }: VariantContext): grpc.ServerInterceptor {
  const introspection = { clientId: issuerClient.clientId, clientSecret: issuerClient.clientSecret };
  return createServerAuthInterceptor({
    issuers: [{ issuer, audience: opaqueAudience, introspection }],
    methods,
    allowInsecureRequests: true,
  });
}

/** The SDK as a user configures it: the issuer's discovery document gives the JWKS (http on loopback here). */
function cached({ issuer, audience }: VariantContext): grpc.ServerInterceptor {
  return createServerAuthInterceptor({ issuer, audience, methods, allowInsecureRequests: true });
}

const build: Readonly<Record<ServerVariant, (context: VariantContext) => grpc.ServerInterceptor>> = {
  passThrough: () => passThrough,
  passThroughTwin: () => (descriptor, nextCall) => passThrough(descriptor, nextCall),
  sdkCached: cached,
  sdkUncached: ({ issuer, audience }) =>
    createServerAuthInterceptor({ issuer, audience, methods, allowInsecureRequests: true, maxCachedTokens: 0 }),
  diy: ({ issuer, audience, jwksUri }) => createDiyServerInterceptor({ jwksUri, issuer, audience, methods }),
  // The issuer's introspection endpoint (from its discovery document) for the opaque resource's tokens,
  // asked as the bench client; the answer is cached after the warm-up.
  sdkOpaqueCached: (context) => introspecting(context),
  // Its own interceptor (own caches), for the flood of made-up tokens.
  sdkOpaqueFlood: (context) => introspecting(context),
  // Each its own interceptor (own cache), as sdkCached; certificate-bound tokens are checked by default.
  sdkMtlsUnbound: cached,
  sdkMtlsBound: cached,
  passThroughMtls: () => (descriptor, nextCall) => passThrough(descriptor, nextCall),
  authzPolicy50: () => createAuthorizationPolicyInterceptor({ policy: fiftyRulePolicy(echoService.Unary.path) }),
  authzPolicy1: () =>
    createAuthorizationPolicyInterceptor({ policy: { name: 'bench-one', allow_rules: [{ name: 'all' }] } }),
};

/** One interceptor per variant. */
export function buildInterceptors(context: VariantContext): Record<ServerVariant, grpc.ServerInterceptor> {
  return Object.fromEntries(Object.entries(build).map(([variant, make]) => [variant, make(context)])) as Record<
    ServerVariant,
    grpc.ServerInterceptor
  >;
}
