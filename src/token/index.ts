export { TokenManager, type ServiceAccountOptions, type TokenManagerStats } from './token-manager.js';
export type { TokenManagerOptions } from './options.js';
export { TokenError, type TokenErrorCode, type TokenErrorOptions } from './errors.js';
export { AccessToken } from './access-token.js';
export type { GetTokenOptions, TokenProvider } from './token-provider.js';
export type { TokenSource, TokenRequest, SourcedToken } from './token-source.js';
export type { Clock, TimerHandle } from './clock.js';
export type { RetryOptions } from './backoff.js';
export type { ClientAuthMethod } from './client-credentials.js';
export type { PrivateKeyInput } from './private-key.js';
export {
  diagnosticsChannels,
  type TokenManagerEvents,
  type TokenIssuedEvent,
  type RefreshFailedEvent,
  type FatalFailureEvent,
} from './events.js';
