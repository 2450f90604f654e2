import type { FailWith } from './option-checks.js';

/** What {@link AuthConfigError.code} can be. */
export type AuthConfigErrorCode = 'invalid_option' | 'insecure_channel';

/**
 * Thrown at construction by every constructor and factory of the package for a misconfiguration: an
 * unknown option name (the message suggests the likely one), a boolean option given anything but
 * `true`/`false`, an option of the wrong type, or (as its subclass `InsecureChannelError`) insecure
 * channel credentials. A `TypeError`, so code that already catches `TypeError` for bad arguments keeps
 * working. The message names the option, never its value.
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
  /** Stable code to switch on: `'invalid_option'`, or `'insecure_channel'` for an `InsecureChannelError`. */
  readonly code: AuthConfigErrorCode = 'invalid_option';
}

/**
 * Makes an {@link AuthConfigError}, for a check that takes the error to throw because it also runs
 * on a call, where it fails with a `TokenError` (`normalizeScopes`, `checkOptionNames`).
 *
 * @internal
 * @example
 * ```ts
 * normalizeScopes(options.scopes, 'createChannelCredentials: scopes', authConfigError);
 * ```
 */
export const authConfigError: FailWith = (message) => new AuthConfigError(message);
