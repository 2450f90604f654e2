// The client side of grpc-oauth2-credentials: tokens (src/token) and attaching them to gRPC calls (src/grpc).
export * from './token/index.js';
export * from './grpc/index.js';
// The one error every entry point throws for a bad option; ./server, ./connect, ./redis and ./testing re-export it.
export { AuthConfigError, type AuthConfigErrorCode } from './common/config-error.js';
