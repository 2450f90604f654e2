// The client side of grpc-oauth2-credentials: tokens (src/token) and attaching them to gRPC calls (src/grpc).
export * from './token/index.js';
export * from './grpc/index.js';
