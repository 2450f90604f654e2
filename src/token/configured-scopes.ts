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
