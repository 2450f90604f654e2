// A43 rules compiled for the per-call decision: each rule's matchers and its pre-built verdict, and
// a list of rules that remembers, per method, the rules whose paths can match it.
import type { AuthzRequest, AuthzVerdict } from './authorization-policy.js';
import { PatternSet } from './patterns.js';
import { principalMatches } from './principals.js';
import type { RuleSpec } from './policy-schema.js';

interface HeaderMatcher {
  readonly key: string;
  readonly values: PatternSet;
}

/** One rule: `source` AND `request`; an absent or empty part matches anything. */
class CompiledRule {
  /** The verdict this rule gives, built once and frozen: a call allocates nothing for it. */
  readonly verdict: AuthzVerdict;
  readonly #principals: PatternSet | undefined;
  readonly #paths: PatternSet | undefined;
  readonly #headers: readonly HeaderMatcher[];

  constructor(spec: RuleSpec, allowed: boolean) {
    this.verdict = Object.freeze({ allowed, matchedRule: spec.name });
    this.#principals = spec.principals.length === 0 ? undefined : new PatternSet(spec.principals);
    this.#paths = spec.paths.length === 0 ? undefined : new PatternSet(spec.paths);
    this.#headers = spec.headers.map((header) => ({ key: header.key, values: new PatternSet(header.values) }));
  }

  /** Whether the rule's paths take `method` (a rule without paths takes every method). */
  takesPath(method: string): boolean {
    return this.#paths === undefined || this.#paths.matches(method);
  }

  /**
   * Whether `request`, whose method the rule's paths take, matches: every header entry (any
   * of its values, against the value as `header()` gives it), and any of the principals.
   *
   * Several values of one header reach grpc-js joined by Node's HTTP/2 layer with `", "`, where
   * grpc-go and C-core join with `","`: the joined string is matched as it is, so `values: ["a, b"]`
   * matches a header sent twice (`a`, `b`) here and `["a,b"]` does there. A `-bin` header is matched
   * in the form the interceptor passes it; grpc-go and C-core compare the decoded bytes and A41 says
   * base64, so only presence (`*`) means the same everywhere for binary headers.
   *
   * The paths are not tried here: {@link RuleList} calls this only for rules whose paths take the
   * method ({@link CompiledRule.takesPath}).
   */
  matchesTakenPath(request: AuthzRequest): boolean {
    for (const header of this.#headers) {
      const value = request.header(header.key);
      if (value === undefined || !header.values.matches(value)) return false;
    }
    return this.#principals === undefined || principalMatches(this.#principals, request.peer);
  }
}

/** Methods whose candidate rules are remembered; past it they are found per call (a bound on memory). */
const maxRememberedMethods = 4096;

/**
 * The rules of one list (`deny_rules` or `allow_rules`) in file order. The paths of a rule are fixed,
 * so which rules can match a method is worked out once per method, on its first call, and
 * remembered: a call then tries only the rules whose paths take its method (and those without
 * paths), with one map lookup and no allocation. grpc-js runs interceptors only for the methods a
 * server registered, so the methods seen are few; the memory is bounded all the same.
 */
export class RuleList {
  readonly #rules: readonly CompiledRule[];
  readonly #byMethod = new Map<string, readonly CompiledRule[]>();

  constructor(specs: readonly RuleSpec[], allowed: boolean) {
    this.#rules = specs.map((spec) => new CompiledRule(spec, allowed));
  }

  /** The verdict of the first rule in file order that matches `request`, else `undefined`. */
  firstMatch(request: AuthzRequest): AuthzVerdict | undefined {
    for (const rule of this.#candidates(request.method)) if (rule.matchesTakenPath(request)) return rule.verdict;
    return undefined;
  }

  /** The rules whose paths take `method` (or that have none), in file order. */
  #candidates(method: string): readonly CompiledRule[] {
    const known = this.#byMethod.get(method);
    if (known !== undefined) return known;
    const candidates = Object.freeze(this.#rules.filter((rule) => rule.takesPath(method)));
    if (this.#byMethod.size < maxRememberedMethods) this.#byMethod.set(method, candidates);
    return candidates;
  }
}
