/**
 * Checks of user-given options, shared by every entry point (token, gRPC, testing kit) so that a
 * misspelled or mistyped option fails the same way everywhere: at construction, with a message that
 * names the option (and the likely intended one), never its value when it may be a secret.
 *
 * Each check takes `fail`, which turns a message into the caller's own error type (a `config`
 * TokenError on the token side, a {@link TypeError} subclass on the gRPC side).
 */

/** Makes the error a check throws. */
export type FailWith = (message: string) => Error;

/** A plain `TypeError`, for entry points without an error type of their own. */
export const typeError: FailWith = (message) => new TypeError(message);

/**
 * Throws for any own key of `options` not in `known`, suggesting the closest known name.
 * `options` may be `undefined` (no options given); anything else that is not a plain object fails.
 *
 * @param where - names the options in the message, e.g. `"TokenManager option"` or `"retry option"`.
 */
export function checkOptionNames(options: unknown, known: readonly string[], where: string, fail: FailWith): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw fail(`${where}s must be an object`);
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = closestName(key, known);
    throw fail(`unknown ${where} "${key}"${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`}`);
  }
}

/** `value` when it is `true`, `false` or `undefined`; a string such as `'false'` from an env var fails. */
export function checkBoolean(value: unknown, name: string, fail: FailWith): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw fail(`${name} must be true or false, not ${describeType(value)}`);
}

/** `value` when it is a function or `undefined`. */
export function checkFunction<T>(value: unknown, name: string, fail: FailWith): T | undefined {
  if (value === undefined || typeof value === 'function') return value as T | undefined;
  throw fail(`${name} must be a function, not ${describeType(value)}`);
}

/** What a value is, safe to print: its type, and for a string only that it is one (it may be a secret). */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : typeof value;
}

/**
 * A thrown value's name, never its message: the value may come from a user's listener or source,
 * and its text is not ours to vouch for. Works for `null`, `undefined` and non-errors.
 */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.name;
  return thrown === null ? 'null' : typeof thrown;
}

/**
 * The known name a misspelling most likely meant: the one with the smallest edit distance, when that
 * distance is small for the name's length, or one that contains it (p-retry's `minTimeout` for our
 * `minTimeoutMs`). Hand-written: a few lines do not justify a dependency.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const target = candidate.toLowerCase();
    const distance =
      target.startsWith(lower) || lower.startsWith(target)
        ? Math.abs(target.length - lower.length)
        : editDistance(lower, target);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * `value` when it is a string with more than whitespace. The message says what was given instead,
 * except for a `secret`, whose value (even its type) is not worth the risk.
 */
export function checkNonEmptyString(value: unknown, name: string, fail: FailWith, secret = false): string {
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw fail(
    `${name} must be a non-empty string${secret ? '' : `; got ${value === '' ? 'an empty string' : describeType(value)}`}`,
  );
}
