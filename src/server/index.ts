// The receiving side (grpc-oauth2-credentials/server): verify bearer JWTs and authorize each gRPC method.
export { createServerAuthInterceptor, type ServerAuthInterceptor } from './interceptor.js';
export { getAuthClaims } from './claims.js';
export { checkPolicy, type CheckPolicyOptions, type ServiceLike } from './check-policy.js';
export type { AuthDecision, AuthorizeRequest, CommonServerAuthOptions, ServerAuthOptions } from './options.js';
export type { IssuerOptions } from './issuer-options.js';
export type { IntrospectionOptions } from './introspection/options.js';
export { asymmetricAlgorithms } from '../common/jws-algorithms.js';
export { defaultPublicMethods, type MethodPolicy, type ScopeRequirement } from './policy.js';
export { type DenialReason } from './denial.js';
export { reasonTrailer, scopeRuleTrailer, scopeTrailer, type ScopeRule } from '../calls/denial-trailers.js';
export { AuthConfigError } from '../common/config-error.js';
export { getPeerIdentity, type PeerIdentity } from './peer-identity.js';
export { createMtlsServerCredentials, type MtlsServerCredentialsOptions } from './mtls-server-credentials.js';
export {
  createAuthorizationPolicyInterceptor,
  type AuthorizationPolicyInterceptor,
} from './authz/policy-interceptor.js';
export type { AuthorizationPolicyInterceptorOptions, PolicyReloadEvent } from './authz/interceptor-options.js';
export type { AuditRecord } from './authz/audit-record.js';
