import type { FailWith } from '../token/checks.js';

/** What {@link AuthConfigError.code} can be. */
export type AuthConfigErrorCode = 'invalid_option' | 'insecure_channel';

/**
 * Thrown at construction by `createAuthInterceptor`, `createChannelCredentials` and
 * `createCallCredentials` for a misconfiguration: an unknown option name (the message suggests the
 * likely one), a boolean option given anything but `true`/`false`, an option of the wrong type, or
 * (as its subclass {@link InsecureChannelError}) insecure channel credentials. A `TypeError`, so code
 * that already catches `TypeError` for bad arguments keeps working. The message names the option,
 * never its value.
 *
 * @example
 * ```ts
 * try {
 *   createAuthInterceptor(tokens, { channelCredentials: tls, scopeFor });
 * } catch (err) {
 *   if (err instanceof AuthConfigError && err.code === 'invalid_option') console.error(err.message);
 *   // unknown createAuthInterceptor option "scopeFor"; did you mean "scopesFor"?
 * }
 * ```
 */
export class AuthConfigError extends TypeError {
  override readonly name: string = 'AuthConfigError';
  /** Stable code to switch on: `'invalid_option'`, or `'insecure_channel'` for an {@link InsecureChannelError}. */
  readonly code: AuthConfigErrorCode = 'invalid_option';
}

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

/**
 * The `fail` of the shared option checks (`src/token/checks.ts`) on the gRPC side.
 *
 * @internal
 * @example
 * ```ts
 * checkBoolean(options.allowInsecureChannel, 'createAuthInterceptor: allowInsecureChannel', authConfigError);
 * ```
 */
export const authConfigError: FailWith = (message) => new AuthConfigError(message);
