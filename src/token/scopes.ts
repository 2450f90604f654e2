import type { FailWith } from '../common/option-checks.js';
import { configError } from './errors.js';

/** A scope token of RFC 6749 §3.3: printable ASCII without space, `"` or `\`. */
const scopeToken = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Sorted, de-duplicated and frozen scopes (the cache key of a scope set). Fails, through `fail`, for
 * anything but an array of scope tokens: by default with a `config` TokenError, as `getToken`'s
 * `scopes` option does; constructors pass `authConfigError`.
 */
export function normalizeScopes(scopes: unknown, what: string, fail: FailWith = configError): readonly string[] {
  if (!Array.isArray(scopes)) throw fail(`${what} must be an array of strings`);
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !scopeToken.test(scope)) {
      const got = typeof scope === 'string' ? JSON.stringify(scope.slice(0, 40)) : typeof scope;
      throw fail(`${what} must hold non-empty scope strings without spaces or quotes; got ${got}`);
    }
  }
  return Object.freeze([...new Set(scopes as string[])].sort());
}

/**
 * The configured scopes of each TokenManager, for diagnostics on the gRPC side: a call that asked
 * for "the configured scopes" (no `scopes` option) can then say which ones those were, without a
 * public getter on the manager. Weak, so it never keeps a manager alive.
 *
 * @internal
 * @example
 * ```ts
 * configuredScopes.get(tokens); // ['orders.read'], or undefined for a provider that is not a TokenManager
 * ```
 */
export const configuredScopes = new WeakMap<object, readonly string[]>();
