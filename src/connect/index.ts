// The Connect-ES entry point (`grpc-oauth2-credentials/connect`). It needs @connectrpc/connect v2, an
// optional peer dependency that the main entry point never imports.
export { createConnectAuthInterceptor, type ConnectAuthInterceptorOptions } from './interceptor.js';
export { createConnectServerAuthInterceptor, type ConnectServerAuthInterceptor } from './server-interceptor.js';
export { getConnectAuthClaims } from './server-claims.js';
export { connectPeerContextValues, getConnectPeerIdentity, type NodeRequestLike } from './server-peer.js';
export type { ConnectAuthorizeRequest, ConnectServerAuthOptions } from './server-options.js';
// Types of the options and decisions shared with ./server (types only: nothing of grpc-js is loaded).
export type { AuthDecision } from '../server/options.js';
export type { PeerIdentity } from '../server/peer-identity.js';
export type { MethodPolicy, ScopeRequirement } from '../server/policy.js';
export type { DenialReason } from '../server/denial.js';
export { AuthConfigError } from '../common/config-error.js';
