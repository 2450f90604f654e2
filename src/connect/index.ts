// The Connect-ES entry point (`grpc-oauth2-credentials/connect`). It needs @connectrpc/connect v2, an
// optional peer dependency that the main entry point never imports.
export { createConnectAuthInterceptor, type ConnectAuthInterceptorOptions } from './interceptor.js';
export { AuthConfigError } from '../common/config-error.js';
