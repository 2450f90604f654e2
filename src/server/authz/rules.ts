// A43 rules compiled for the per-call decision: each rule's matchers and its pre-built verdict, and
// a list of rules that looks up, by the exact method path, the rules that can match it.
import type { AuthzRequest, AuthzVerdict } from './authorization-policy.js';
import { PatternSet } from './patterns.js';
import { principalMatches } from './principals.js';
import type { RuleSpec } from './policy-schema.js';

interface HeaderMatcher {
  readonly key: string;
  readonly values: PatternSet;
}

/** One rule: `source` AND `request`; an absent or empty part matches anything. */
export class CompiledRule {
  /** The verdict this rule gives, built once and frozen: a call allocates nothing for it. */
  readonly verdict: AuthzVerdict;
  /** The rule's paths when every one is exact (what the list indexes), else `undefined`. */
  readonly exactPaths: readonly string[] | undefined;

  /** The rule's index in its list: what keeps file order. */
  readonly position: number;
  readonly #principals: PatternSet | undefined;
  readonly #paths: PatternSet | undefined;
  readonly #headers: readonly HeaderMatcher[];

  constructor(spec: RuleSpec, allowed: boolean, position: number) {
    this.position = position;
    this.verdict = Object.freeze({ allowed, matchedRule: spec.name });
    this.#principals = spec.principals.length === 0 ? undefined : new PatternSet(spec.principals);
    this.#paths = spec.paths.length === 0 ? undefined : new PatternSet(spec.paths);
    const allExact = spec.paths.length > 0 && spec.paths.every((path) => path.kind === 'exact');
    this.exactPaths = allExact ? spec.paths.map((path) => path.text) : undefined;
    this.#headers = spec.headers.map((header) => ({ key: header.key, values: new PatternSet(header.values) }));
  }

  /**
   * Whether `request` matches: any of the paths (against the full method), every header entry (any
   * of its values, against the value as `header()` gives it), and any of the principals.
   *
   * Several values of one header reach grpc-js joined by Node's HTTP/2 layer with `", "`, where
   * grpc-go and C-core join with `","`: the joined string is matched as it is, so `values: ["a, b"]`
   * matches a header sent twice (`a`, `b`) here and `["a,b"]` does there. A `-bin` header is matched
   * in the form the interceptor passes it; grpc-go and C-core compare the decoded bytes and A41 says
   * base64, so only presence (`*`) means the same everywhere for binary headers.
   *
   * @param pathMatched - the list already found the method among the rule's exact paths.
   */
  matches(request: AuthzRequest, pathMatched: boolean): boolean {
    if (!pathMatched && this.#paths !== undefined && !this.#paths.matches(request.method)) return false;
    for (const header of this.#headers) {
      const value = request.header(header.key);
      if (value === undefined || !header.values.matches(value)) return false;
    }
    return this.#principals === undefined || principalMatches(this.#principals, request.peer);
  }
}

/**
 * The rules of one list (`deny_rules` or `allow_rules`) in file order. A rule whose paths are all
 * exact can only match those methods, so it is kept under each of them; every other rule is kept
 * once. A call walks the rules under its method and the others together, in file order, so that the
 * first match in the file decides, with one map lookup and no allocation; building stays linear in
 * the policy's size, whatever the mix.
 */
export class RuleList {
  readonly #byMethod: ReadonlyMap<string, readonly CompiledRule[]>;
  readonly #others: readonly CompiledRule[];

  constructor(specs: readonly RuleSpec[], allowed: boolean) {
    const byMethod = new Map<string, CompiledRule[]>();
    const others: CompiledRule[] = [];
    specs.forEach((spec, position) => {
      const rule = new CompiledRule(spec, allowed, position);
      if (rule.exactPaths === undefined) others.push(rule);
      // a path written twice in one rule keeps the rule once under it
      else
        for (const method of new Set(rule.exactPaths)) {
          const rules = byMethod.get(method);
          if (rules === undefined) byMethod.set(method, [rule]);
          else rules.push(rule);
        }
    });
    this.#byMethod = byMethod;
    this.#others = others;
  }

  /** The verdict of the first rule in file order that matches `request`, else `undefined`. */
  firstMatch(request: AuthzRequest): AuthzVerdict | undefined {
    const indexed = this.#byMethod.get(request.method) ?? noRules;
    const others = this.#others;
    let i = 0;
    let j = 0;
    while (i < indexed.length || j < others.length) {
      const next = indexed[i];
      const other = others[j];
      if (next !== undefined && (other === undefined || next.position < other.position)) {
        i++;
        if (next.matches(request, true)) return next.verdict;
      } else if (other !== undefined) {
        j++;
        if (other.matches(request, false)) return other.verdict;
      }
    }
    return undefined;
  }
}

const noRules: readonly CompiledRule[] = [];
