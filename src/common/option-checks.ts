import { systemClock, type Clock } from './clock.js';
import { AuthConfigError, authConfigError } from './config-error.js';
import { describeType } from './describe.js';

/**
 * Checks of user-given options, shared by every entry point (token, gRPC, server, Redis, testing kit)
 * so that a misspelled or mistyped option fails the same way everywhere: at construction, with an
 * {@link AuthConfigError} whose message names the option (and the likely intended one), never its
 * value when it may be a secret.
 */

/** Makes the error a check throws, for the few checks that also run on a call (`getToken`'s options). */
export type FailWith = (message: string) => Error;

// Kept for the token core (refresher.ts, refresh-timer.ts, events.ts), which imports it from here until
// it imports describe.js itself.

/**
 * Throws for any own key of `options` not in `known`, suggesting the closest known name.
 * `options` may be `undefined` (no options given); anything else that is not a plain object fails.
 *
 * @param where - names the options in the message, e.g. `"TokenManager option"` or `"retry option"`.
 * @param fail - makes the error; an {@link AuthConfigError} unless a call-time check (`getToken`'s
 *   options, a `TokenError`) passes its own.
 */
export function checkOptionNames(
  options: unknown,
  known: readonly string[],
  where: string,
  fail: FailWith = authConfigError,
): void {
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
export function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw new AuthConfigError(`${name} must be true or false, not ${describeType(value)}`);
}

/** `value` when it is a function or `undefined`. */
export function checkFunction<T>(value: unknown, name: string): T | undefined {
  if (value === undefined || typeof value === 'function') return value as T | undefined;
  throw new AuthConfigError(`${name} must be a function, not ${describeType(value)}`);
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
export function checkNonEmptyString(value: unknown, name: string, secret = false): string {
  if (typeof value === 'string' && value.trim() !== '') return value;
  throw new AuthConfigError(
    `${name} must be a non-empty string${secret ? '' : `; got ${value === '' ? 'an empty string' : describeType(value)}`}`,
  );
}

/** The range a number option must be in; `integer` for a whole number. */
export interface NumberRange {
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
}

/** `value` when it is a number within `range`; `fallback` when it is `undefined`. */
export function checkNumber(value: unknown, name: string, fallback: number, range: NumberRange): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    value >= range.min &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (!ok)
    throw new AuthConfigError(
      `${name} must be a ${range.integer ? 'whole ' : ''}number from ${range.min} to ${range.max}`,
    );
  return value;
}

/** `value` when it is an object with `now()` and `setTimeout()`; the system clock when it is absent. */
export function checkClock(value: unknown, name: string): Clock {
  const clock = (value ?? systemClock) as Partial<Clock>;
  if (typeof clock !== 'object' || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function')
    throw new AuthConfigError(`${name} must have now() and setTimeout(), not ${describeType(value)}`);
  return clock as Clock;
}
