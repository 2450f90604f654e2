// A43 rules compiled for the per-call decision: each rule's matchers and its pre-built verdict, and
// a list of rules that looks up, by the exact method path, only the rules that can match it.
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
  readonly #principals: PatternSet | undefined;
  readonly #paths: PatternSet | undefined;
  readonly #headers: readonly HeaderMatcher[];

  constructor(spec: RuleSpec, allowed: boolean) {
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

interface Candidate {
  readonly rule: CompiledRule;
  readonly pathMatched: boolean;
}

/**
 * The rules of one list (`deny_rules` or `allow_rules`) in file order. A rule whose paths are all
 * exact can only match those methods: per such method the list keeps the rules that can match it
 * (the indexed ones and every other, still in file order), so that a call checks those alone.
 */
export class RuleList {
  readonly #byMethod: ReadonlyMap<string, readonly Candidate[]>;
  readonly #otherwise: readonly Candidate[];

  constructor(specs: readonly RuleSpec[], allowed: boolean) {
    const rules = specs.map((spec) => new CompiledRule(spec, allowed));
    const methods = new Set(rules.flatMap((rule) => rule.exactPaths ?? []));
    const byMethod = new Map<string, readonly Candidate[]>();
    for (const method of methods) {
      const candidates = rules
        .filter((rule) => rule.exactPaths === undefined || rule.exactPaths.includes(method))
        .map((rule) => Object.freeze({ rule, pathMatched: rule.exactPaths !== undefined }));
      byMethod.set(method, Object.freeze(candidates));
    }
    this.#byMethod = byMethod;
    this.#otherwise = Object.freeze(
      rules.filter((rule) => rule.exactPaths === undefined).map((rule) => Object.freeze({ rule, pathMatched: false })),
    );
  }

  /** The verdict of the first rule in file order that matches `request`, else `undefined`. */
  firstMatch(request: AuthzRequest): AuthzVerdict | undefined {
    const candidates = this.#byMethod.get(request.method) ?? this.#otherwise;
    for (const candidate of candidates) {
      if (candidate.rule.matches(request, candidate.pathMatched)) return candidate.rule.verdict;
    }
    return undefined;
  }
}
