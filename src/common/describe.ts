/**
 * What a value is, safe to put in a message: its type, and for a string only that it is one (it may
 * be a secret).
 *
 * @example
 * ```ts
 * `allowInsecureRequests must be true or false, not ${describeType('false')}`; // '... not a string'
 * ```
 */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : typeof value;
}

/**
 * A thrown value's name, never its message: the value may come from a user's listener or source,
 * and its text is not ours to vouch for. Works for `null`, `undefined` and non-errors.
 *
 * @example
 * ```ts
 * `scopesFor('/orders.v1.Orders/Get') threw ${describeThrown(new RangeError('...'))}`; // '... threw RangeError'
 * ```
 */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.name;
  return thrown === null ? 'null' : typeof thrown;
}
