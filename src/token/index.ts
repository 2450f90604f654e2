export { TokenManager } from './token-manager.js';
export type { TokenManagerStats } from './cache/stats.js';
export type { SharedTokenCache, SharedToken, SharedCacheOperation } from './cache/shared-cache.js';
export type { ServiceAccountOptions, TokenManagerOptions } from './options.js';
export type { TokenFileOptions } from './sources/token-file.js';
export type { TokenExchangeOptions } from './sources/token-exchange.js';
export type { ProxyOption } from './http/proxy.js';
export { TokenError, type TokenErrorCode, type TokenErrorOptions } from './errors.js';
export { AccessToken, type AccessTokenJson } from './access-token.js';
export type { GetTokenOptions, TokenProvider } from './token-provider.js';
export type { TokenSource, TokenRequest, SourcedToken } from './token-source.js';
export type { Clock, TimerHandle } from '../common/clock.js';
export type { RetryOptions } from './cache/backoff.js';
export type { ClientAuthMethod, MtlsClientAuthMethod } from './credentials/client-credential.js';
export type { TlsClientCertificateOptions } from './credentials/tls-client-certificate.js';
export type { PrivateKeyInput } from './credentials/private-key.js';
export type { DpopOptions } from './dpop/dpop-options.js';
export type { DpopPrivateKeyInput } from './dpop/dpop-key.js';
export {
  diagnosticsChannels,
  type TokenManagerEvents,
  type TokenIssuedEvent,
  type RefreshFailedEvent,
  type FatalFailureEvent,
  type SharedCacheFailedEvent,
} from './events.js';
