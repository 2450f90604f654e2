// The gRPC side: attach TokenManager tokens to @grpc/grpc-js calls.
export { createCallCredentials, type CallCredentialsOptions } from './call-credentials.js';
export { createChannelCredentials, InsecureChannelError } from './channel-credentials.js';
export { createAuthInterceptor, type AuthInterceptorOptions } from './interceptor.js';
