// Hands a call's verified claims to its Connect handler through the call's context values, which only
// server code can set: nothing a client sends reaches them.
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { JWTPayload } from 'jose';

/** The context value holding the verified claims. Not exported from the package: only the interceptor sets it. */
export const claimsKey = createContextKey<Readonly<JWTPayload> | undefined>(undefined, {
  description: 'grpc-oauth2-credentials verified claims',
});

/**
 * The verified token claims of a Connect call, in any handler kind (unary, client-streaming,
 * server-streaming, bidi): what `createConnectServerAuthInterceptor` verified, read from the call's
 * context values (`context.values`), never from a header. `undefined` on a public method, or for a
 * call that did not pass through the interceptor. The claims are frozen all the way down (every call
 * with the same token shares them). The call's `ContextValues` must be its own: connect-node makes
 * one per request unless the adapter's `contextValues` option returns a shared one.
 *
 * @param context - the handler's context (its second argument).
 * @example
 * ```ts
 * router.service(OrdersService, {
 *   getOrder(request, context) {
 *     const claims = getConnectAuthClaims(context);
 *     return { id: request.id, owner: claims?.sub };
 *   },
 * });
 * ```
 */
export function getConnectAuthClaims(context: HandlerContext): Readonly<JWTPayload> | undefined {
  const values = (context as { values?: unknown } | null | undefined)?.values;
  if (typeof values !== 'object' || values === null || typeof (values as { get?: unknown }).get !== 'function')
    return undefined;
  return (values as HandlerContext['values']).get(claimsKey);
}
