import { AuthConfigError } from '../common/config-error.js';

/**
 * Thrown at construction when asked to attach tokens to insecure (plaintext) channel credentials: a
 * bearer token sent in clear text can be read and replayed by anyone on the path. Nothing has been
 * sent and no token has been fetched when it is thrown.
 *
 * @example
 * ```ts
 * try {
 *   createChannelCredentials(grpc.credentials.createInsecure(), tokens);
 * } catch (err) {
 *   if (err instanceof InsecureChannelError) console.error(err.message); // says to use createSsl(...)
 * }
 * ```
 */
export class InsecureChannelError extends AuthConfigError {
  override readonly name = 'InsecureChannelError';
  /** Stable code to switch on. */
  override readonly code = 'insecure_channel';
}
