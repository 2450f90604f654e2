// A43's string patterns, shared by `request.paths`, `request.headers[].values` and
// `source.principals`: compiled once when the policy loads, matched per call with plain string
// operations (no regular expression, no allocation).
import { AuthConfigError } from '../../common/config-error.js';

/** What one pattern means; `*` anywhere but as the whole pattern, its first or its last character is refused. */
export type PatternKind = 'exact' | 'prefix' | 'suffix' | 'presence';

/** One checked pattern: its kind and the literal text it compares with. */
export interface Pattern {
  readonly kind: PatternKind;
  readonly text: string;
}

/**
 * Reads one pattern: `*` alone is presence (any non-empty value, as grpc-go's and C-core's `.+`),
 * `abc*` a prefix (`abc` itself included), `*abc` a suffix, anything else without `*` an exact,
 * case-sensitive value (`""` included). grpc-go reads `*abc*` as the prefix `*abc` and C-core as the
 * suffix `abc*`, each with a literal `*` that no user meant: refused here, as is `**`.
 *
 * @param place - names the pattern in the message, e.g. `allow_rules[0].request.paths[2]`.
 */
export function readPattern(pattern: string, where: string, place: string): Pattern {
  if (pattern === '*') return { kind: 'presence', text: '' };
  const inner = pattern.startsWith('*') ? pattern.slice(1) : pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
  if (inner.includes('*'))
    throw new AuthConfigError(
      `${where}: ${place} has "*" inside it; a pattern is "*", "prefix*", "*suffix" or an exact value`,
    );
  if (pattern.startsWith('*')) return { kind: 'suffix', text: inner };
  return { kind: pattern.endsWith('*') ? 'prefix' : 'exact', text: inner };
}

/**
 * Several patterns OR-ed, as every A43 list is. Exact values go into a `Set`; prefixes and suffixes
 * are compared in file order; presence is a flag. Immutable once built.
 */
export class PatternSet {
  readonly #exact: ReadonlySet<string>;
  readonly #prefixes: readonly string[];
  readonly #suffixes: readonly string[];
  readonly #presence: boolean;

  constructor(patterns: readonly Pattern[]) {
    const of = (kind: PatternKind) => patterns.filter((p) => p.kind === kind).map((p) => p.text);
    this.#exact = new Set(of('exact'));
    this.#prefixes = of('prefix');
    this.#suffixes = of('suffix');
    this.#presence = patterns.some((p) => p.kind === 'presence');
  }

  /** Whether `value` matches any of the patterns. */
  matches(value: string): boolean {
    if (this.#presence && value.length > 0) return true;
    if (this.#exact.has(value)) return true;
    for (const prefix of this.#prefixes) if (value.startsWith(prefix)) return true;
    for (const suffix of this.#suffixes) if (value.endsWith(suffix)) return true;
    return false;
  }

  /** Whether `values` has any element that matches. */
  matchesAny(values: readonly string[]): boolean {
    for (const value of values) if (this.matches(value)) return true;
    return false;
  }
}
