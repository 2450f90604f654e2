// The per-method policy: which scopes each full method path needs, which methods are public, and
// the deny-by-default answer for the rest.
import type { JWTPayload } from 'jose';
import { checkOptionNames } from '../common/option-checks.js';
import { normalizeScopes } from '../token/scopes.js';
import { AuthConfigError, authConfigError } from '../common/config-error.js';
import { Denial } from './denial.js';

/** The scopes a method needs: every one listed, or `{ anyOf }` for at least one of them. */
export type ScopeRequirement = readonly string[] | { readonly anyOf: readonly string[] };

/**
 * Full method paths (`'/orders.v1.Orders/GetOrder'`) or service wildcards (`'/orders.v1.Orders/*'`,
 * the methods of that service not named on their own) mapped to the scopes they need.
 */
export type MethodPolicy = Readonly<Record<string, ScopeRequirement>>;

/** The default `publicMethods`: the gRPC health service, which load balancers call without a token. */
export const defaultPublicMethods: readonly string[] = Object.freeze([
  '/grpc.health.v1.Health/Check',
  '/grpc.health.v1.Health/Watch',
]);

/** `/package.Service/Method` or `/package.Service/*`. */
export const policyPath = /^\/[A-Za-z_][\w.]*\/(?:[A-Za-z_]\w*|\*)$/;

/** What a path of the policy asks: a scope rule, or no token at all. */
type Rule = { readonly kind: 'allOf' | 'anyOf'; readonly scopes: readonly string[] } | { readonly kind: 'public' };

/** One path the policy names, with where it came from (for {@link checkPolicy}'s messages). */
export interface PolicyEntry {
  readonly path: string;
  readonly option: 'methods' | 'publicMethods';
  /** True for the default health entries, which need not exist in the checked services. */
  readonly isDefault: boolean;
}

/** A checked, compiled policy. Exact paths win over a service wildcard. */
export class Policy {
  readonly entries: readonly PolicyEntry[];
  readonly #exact = new Map<string, Rule>();
  readonly #wildcard = new Map<string, Rule>();

  readonly #where: string;

  /** @param where - the factory whose options these are, for messages. */
  constructor(methods: unknown, publicMethods: unknown, where = 'createServerAuthInterceptor') {
    this.#where = where;
    if (typeof methods !== 'object' || methods === null || Array.isArray(methods)) {
      throw new AuthConfigError(`${where}: methods must be an object mapping full method paths to scopes`);
    }
    const entries: PolicyEntry[] = [];
    for (const [path, requirement] of Object.entries(methods)) {
      this.#add(path, ruleOf(path, requirement, where), 'methods');
      entries.push({ path, option: 'methods', isDefault: false });
    }
    const isDefault = publicMethods === undefined;
    const publicPaths = publicMethods ?? defaultPublicMethods;
    if (!Array.isArray(publicPaths))
      throw new AuthConfigError(`${where}: publicMethods must be an array of full method paths`);
    for (const path of publicPaths as unknown[]) {
      if (typeof path !== 'string') throw new AuthConfigError(`${where}: publicMethods must hold strings`);
      this.#add(path, { kind: 'public' }, 'publicMethods');
      entries.push({ path, option: 'publicMethods', isDefault });
    }
    this.entries = Object.freeze(entries);
  }

  /** The rule for `method`, or `undefined` when the policy does not name it (deny by default). */
  ruleFor(method: string): Rule | undefined {
    return this.#exact.get(method) ?? this.#wildcard.get(serviceOf(method));
  }

  /** Whether `rule` (of {@link ruleFor}) lets a call through without a token. */
  static isPublic(rule: Rule | undefined): boolean {
    return rule?.kind === 'public';
  }

  /**
   * The denial for a verified token calling `method` (whose {@link ruleFor} the caller may pass, when
   * it looked it up already), or `undefined` when its scopes suffice. Scopes come from the `scope`
   * claim (space-separated, RFC 9068) or an `scp` array or string.
   */
  check(method: string, claims: JWTPayload, rule: Rule | undefined = this.ruleFor(method)): Denial | undefined {
    if (rule === undefined) return new Denial('method_not_in_policy', `method ${method} is not in the server's policy`);
    if (rule.kind === 'public') return undefined;
    const granted = scopesOf(claims);
    if (rule.kind === 'anyOf') {
      if (rule.scopes.some((scope) => granted.has(scope))) return undefined;
      return new Denial(
        'missing_scope',
        `missing scope: needs one of ${rule.scopes.join(', ')}`,
        rule.scopes,
        undefined, // the details are for the client and the logs alike
        'any_of',
      );
    }
    const missing = rule.scopes.filter((scope) => !granted.has(scope));
    if (missing.length === 0) return undefined;
    return new Denial('missing_scope', `missing scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, missing);
  }

  #add(path: string, rule: Rule, option: PolicyEntry['option']): void {
    if (!policyPath.test(path)) {
      throw new AuthConfigError(
        `${this.#where}: ${option} path ${JSON.stringify(path)} is not a full method path like "/package.Service/Method" or "/package.Service/*"`,
      );
    }
    const table = path.endsWith('/*') ? this.#wildcard : this.#exact;
    const key = path.endsWith('/*') ? serviceOf(path) : path;
    if (table.has(key))
      throw new AuthConfigError(`${this.#where}: ${path} is named more than once across methods and publicMethods`);
    table.set(key, rule);
  }
}

/** `'/pkg.Service/'` of a method path or wildcard. */
export function serviceOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/') + 1);
}

function ruleOf(path: string, requirement: unknown, factory: string): Rule {
  const where = `${factory}: methods[${JSON.stringify(path)}]`;
  if (Array.isArray(requirement))
    return { kind: 'allOf', scopes: normalizeScopes(requirement, where, authConfigError) };
  if (typeof requirement === 'object' && requirement !== null) {
    checkOptionNames(requirement, ['anyOf'], `${where} option`);
    const scopes = normalizeScopes((requirement as { anyOf?: unknown }).anyOf, `${where}.anyOf`, authConfigError);
    if (scopes.length === 0) throw new AuthConfigError(`${where}.anyOf must name at least one scope`);
    return { kind: 'anyOf', scopes };
  }
  throw new AuthConfigError(`${where} must be an array of scopes or { anyOf: [...] }`);
}

/**
 * The granted scopes of claims seen before. Verified claims are frozen and shared by every call
 * with the same token (the verified-token cache), so their scopes are parsed once per token rather
 * than once per call.
 */
const scopesByClaims = new WeakMap<JWTPayload, ReadonlySet<string>>();

/** The scopes a token grants: `scope` (space-separated) and `scp` (array or string) together. */
export function scopesOf(claims: JWTPayload): ReadonlySet<string> {
  const known = scopesByClaims.get(claims);
  if (known !== undefined) return known;
  const granted = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === 'string') for (const scope of value.split(' ')) if (scope !== '') granted.add(scope);
    if (Array.isArray(value)) for (const scope of value) if (typeof scope === 'string') granted.add(scope);
  };
  add(claims.scope);
  add(claims.scp);
  if (Object.isFrozen(claims)) scopesByClaims.set(claims, granted);
  return granted;
}
