import { debuglog } from 'node:util';

// node's own switch for library debug output: NODE_DEBUG=grpc-oauth2 (comma-separated with others).
const log = debuglog('grpc-oauth2');

/**
 * Whether `NODE_DEBUG` names `grpc-oauth2`; read once, when first asked (node reads `NODE_DEBUG`
 * at the first use of the section).
 *
 * @example
 * ```ts
 * if (debugEnabled()) debugLine(`token request ${n} sent`);
 * ```
 */
export function debugEnabled(): boolean {
  return log.enabled;
}

/**
 * Writes one `GRPC-OAUTH2 <pid>: <message>` line to stderr when debug output is on. `message` must
 * already be safe to show: names, scopes, durations and `TokenError` messages, never a secret or token.
 *
 * @example
 * ```ts
 * debugLine('createAuthInterceptor refused an insecure channel');
 * ```
 */
export function debugLine(message: string): void {
  log('%s', message);
}

/**
 * Scopes as a debug line shows them: `[orders.read orders.write]`, or `[]` for the server's default.
 *
 * @example
 * ```ts
 * describeScopes(['orders.read']); // '[orders.read]'
 * ```
 */
export function describeScopes(scopes: readonly string[]): string {
  return `[${scopes.join(' ')}]`;
}
