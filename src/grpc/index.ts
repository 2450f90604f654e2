// The gRPC side: attach TokenManager tokens to @grpc/grpc-js calls.
export { createCallCredentials, type CallCredentialsOptions } from './call-credentials.js';
export { createChannelCredentials, type ChannelCredentialsOptions } from './channel-credentials.js';
export { createMtlsChannelCredentials, type MtlsChannelCredentialsOptions } from './mtls-channel-credentials.js';
export { InsecureChannelError } from '../calls/errors.js';
export { createAuthInterceptor, type AuthInterceptorOptions } from './interceptor.js';
export {
  createMetadataLogger,
  type MetadataLoggerOptions,
  type MetadataLogFields,
} from './diagnostics/metadata-logger.js';
export { explainAuthFailure, type AuthFailureExplanation } from './diagnostics/explain-auth-failure.js';
