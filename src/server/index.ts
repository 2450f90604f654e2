// The receiving side (grpc-oauth2-credentials/server): verify bearer JWTs and authorize each gRPC method.
export { createServerAuthInterceptor } from './interceptor.js';
export { getAuthClaims } from './claims.js';
export { checkPolicy, type CheckPolicyOptions, type ServiceLike } from './check-policy.js';
export { asymmetricAlgorithms, type AuthDecision, type AuthorizeRequest, type ServerAuthOptions } from './options.js';
export { defaultPublicMethods, type MethodPolicy, type ScopeRequirement } from './policy.js';
export { type DenialReason } from './denial.js';
export { reasonTrailer, scopeRuleTrailer, scopeTrailer, type ScopeRule } from '../calls/denial-trailers.js';
export { AuthConfigError } from '../calls/errors.js';
