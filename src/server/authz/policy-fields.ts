// The field checks every level of an A43 policy shares: exact, case-sensitive field names, own
// properties only (a parsed file may carry `__proto__` or `constructor` as plain keys), and messages
// that name the place (`allow_rules[0].request.headers[1].key`) and what is wrong, quoting at most a
// short, escaped piece of the policy.
import { AuthConfigError } from '../../common/config-error.js';
import { describeType } from '../../common/describe.js';
import { closestName } from '../../common/option-checks.js';
import { escapeControlCharacters } from '../../common/printable.js';

/** One JSON object of the policy, its fields read as own properties only. */
export type Fields = Readonly<Record<string, unknown>>;

/** Where a check is: the caller's `where` and the place in the policy. */
export interface Place {
  readonly where: string;
  /** `''` for the policy itself, else e.g. `allow_rules[0].source`. */
  readonly path: string;
}

/** The place of field `key` (or array index `key`) inside `place`. */
export function inside(place: Place, key: string | number): Place {
  const step = typeof key === 'number' ? `[${key}]` : place.path === '' ? key : `.${key}`;
  return { where: place.where, path: `${place.path}${step}` };
}

/** An {@link AuthConfigError} saying `problem` of `place`. */
export function refusal(place: Place, problem: string): AuthConfigError {
  return new AuthConfigError(`${place.where}: ${place.path === '' ? 'the policy' : place.path} ${problem}`);
}

/** A short piece of policy text fit for a message: JSON-quoted, control characters escaped, at most 64 characters. */
export function quote(text: string): string {
  const short = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return escapeControlCharacters(JSON.stringify(short));
}

/** What was given instead, for "must be …; got …". */
export function given(value: unknown): string {
  if (value === '') return 'an empty string';
  if (Array.isArray(value) && value.length === 0) return 'an empty array';
  return describeType(value);
}

/**
 * `value` as an object of known fields. A43 says a policy with a field this version does not know is
 * invalid; C-core refuses such a field by its exact name, grpc-go by a case-insensitive one (`Name`
 * passes there): exact names here, so that `Name` is refused rather than silently meaning `name`.
 */
export function readObject(value: unknown, known: readonly string[], place: Place): Fields {
  const fields = readAnyObject(value, place);
  for (const key of Object.keys(fields)) {
    if (known.includes(key)) continue;
    const suggestion = closestName(key, known);
    throw new AuthConfigError(
      `${place.where}: unknown field ${quote(key)} in ${place.path === '' ? 'the policy' : place.path}` +
        (suggestion === undefined ? '' : `; did you mean "${suggestion}"?`),
    );
  }
  return fields;
}

/** `value` as an object of any fields (a logger's `config`). */
export function readAnyObject(value: unknown, place: Place): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw refusal(place, `must be an object; got ${given(value)}`);
  return value as Fields;
}

/** Field `key` of `fields` when it is an own property, else `undefined` (never an inherited one). */
export function field(fields: Fields, key: string): unknown {
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}

/** `value` as an array, `[]` when absent; each element read by `read`. */
export function readArray<T>(value: unknown, place: Place, what: string, read: (item: unknown, at: Place) => T): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw refusal(place, `must be an array of ${what}; got ${given(value)}`);
  return value.map((item, index) => read(item, inside(place, index)));
}

/** `value` as a non-empty array (required); each element read by `read`. */
export function readNonEmptyArray<T>(
  value: unknown,
  place: Place,
  what: string,
  read: (item: unknown, at: Place) => T,
): T[] {
  if (value === undefined) throw refusal(place, `is required: a non-empty array of ${what}`);
  if (!Array.isArray(value) || value.length === 0)
    throw refusal(place, `must be a non-empty array of ${what}; got ${given(value)}`);
  return readArray(value, place, what, read);
}

/** `value` as a string (`''` allowed). */
export function readString(value: unknown, place: Place): string {
  if (typeof value !== 'string') throw refusal(place, `must be a string; got ${given(value)}`);
  return value;
}

/** `value` as a non-empty string (required). */
export function readName(value: unknown, place: Place): string {
  if (value === undefined) throw refusal(place, 'is required: a non-empty string');
  if (typeof value !== 'string' || value === '')
    throw refusal(place, `must be a non-empty string; got ${given(value)}`);
  return value;
}
