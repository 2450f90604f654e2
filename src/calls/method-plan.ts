// What every call of one method shares, worked out from the user's per-method callbacks on the
// method's first call. Shared by the grpc-js and the Connect interceptors (their options have the same
// meaning); imports no transport, so each side reports a failed plan in its own terms.
import { AuthConfigError } from '../common/config-error.js';
import { describeThrown, describeType } from '../common/describe.js';
import { checkBoolean, checkFunction, checkOptionNames } from '../common/option-checks.js';
import { normalizeScopes } from '../token/scopes.js';
import { checkTokenProvider, type GetTokenOptions, type TokenProvider } from '../token/token-provider.js';

/** Picks the scopes for a method from its full path (`/pkg.Service/Method`); `undefined` for the defaults. */
export type ScopesFor = (methodPath: string) => readonly string[] | undefined;

/** Whether a method's calls are made once more after `UNAUTHENTICATED`: for all, or per method path. */
export type RetryOnUnauthenticated = boolean | ((methodPath: string) => boolean);

/** What every call of one method shares. */
export interface MethodPlan {
  readonly tokens: TokenProvider;
  /** `undefined` asks for the TokenManager's configured scopes. */
  readonly getTokenOptions: GetTokenOptions | undefined;
  /** Made once more with a fresh token after `UNAUTHENTICATED` before any response. */
  readonly replayable: boolean;
}

/** The per-method callbacks, as checked at construction. */
export interface MethodPlanOptions {
  readonly scopesFor: ScopesFor | undefined;
  readonly retryOnUnauthenticated: RetryOnUnauthenticated;
}

/** The options both interceptors share, checked. */
export interface CheckedInterceptorOptions extends MethodPlanOptions {
  readonly tokens: TokenProvider;
  readonly allowInsecureChannel: boolean;
}

/**
 * Checks what the grpc-js and the Connect interceptor share, at construction: the token provider,
 * the option names (`optionNames`, unknown ones suggest the likely one), `scopesFor`,
 * `retryOnUnauthenticated` (default `true`) and `allowInsecureChannel` (default `false`). Fails
 * with an AuthConfigError naming `caller` and the option.
 *
 * @internal
 * @example
 * ```ts
 * const checked = checkInterceptorOptions(tokens, options, 'createConnectAuthInterceptor', ['scopesFor']);
 * ```
 */
export function checkInterceptorOptions(
  tokens: unknown,
  options:
    | {
        readonly scopesFor?: unknown;
        readonly retryOnUnauthenticated?: unknown;
        readonly allowInsecureChannel?: unknown;
      }
    | undefined,
  caller: string,
  optionNames: readonly string[],
): CheckedInterceptorOptions {
  const provider = checkTokenProvider(tokens, caller);
  checkOptionNames(options, optionNames, `${caller} option`);
  return {
    tokens: provider,
    scopesFor: checkFunction<ScopesFor>(options?.scopesFor, `${caller}: scopesFor`),
    retryOnUnauthenticated: checkRetryOption(options?.retryOnUnauthenticated, caller) ?? true,
    allowInsecureChannel: checkBoolean(options?.allowInsecureChannel, `${caller}: allowInsecureChannel`) ?? false,
  };
}

/**
 * `retryOnUnauthenticated` when it is a boolean, a function or `undefined`; else an AuthConfigError.
 *
 * @internal
 * @example
 * ```ts
 * const retry = checkRetryOption(options.retryOnUnauthenticated, 'createAuthInterceptor') ?? true;
 * ```
 */
function checkRetryOption(value: unknown, caller: string): RetryOnUnauthenticated | undefined {
  if (value === undefined || typeof value === 'boolean' || typeof value === 'function')
    return value as RetryOnUnauthenticated | undefined;
  throw new AuthConfigError(
    `${caller}: retryOnUnauthenticated must be true, false or a function (methodPath) => boolean, not ${describeType(value)}`,
  );
}

/**
 * The plan for the method at `path`, or what went wrong when a user callback failed for it (a throw,
 * or a result of the wrong type). The problem text names the callback, the method and what was
 * wrong, never the callback's own error message, which is not ours to vouch for. The caller ends the
 * call with it instead of throwing: a throw out of an interceptor comes out of the client's call
 * method itself, where nobody expects one.
 *
 * @param replayCandidate - the call kind can be made again at all (one request message).
 */
function planMethod(
  tokens: TokenProvider,
  path: string,
  replayCandidate: boolean,
  options: MethodPlanOptions,
): MethodPlan | { readonly problem: string } {
  let scopes: unknown;
  try {
    scopes = options.scopesFor?.(path);
  } catch (error) {
    return { problem: `scopesFor('${path}') threw ${describeThrown(error)}` };
  }
  if (scopes !== undefined && !Array.isArray(scopes)) {
    return {
      problem: `scopesFor('${path}') must return an array of scope strings or undefined, not ${describeType(scopes)}`,
    };
  }
  let replay: unknown = options.retryOnUnauthenticated;
  if (typeof replay === 'function' && replayCandidate) {
    try {
      replay = (replay as (methodPath: string) => unknown)(path);
    } catch (error) {
      return { problem: `retryOnUnauthenticated('${path}') threw ${describeThrown(error)}` };
    }
    if (typeof replay !== 'boolean')
      return { problem: `retryOnUnauthenticated('${path}') must return true or false, not ${describeType(replay)}` };
  }
  let getTokenOptions: GetTokenOptions | undefined;
  try {
    getTokenOptions = scopes === undefined ? undefined : { scopes: normalizeScopes(scopes, `scopesFor('${path}')`) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
  return { tokens, getTokenOptions, replayable: replay === true && replayCandidate };
}

/**
 * What an interceptor asks on each call: the plan of the method at `path`, worked out on the method's
 * first call and kept, or the problem a user callback caused. A problem is not kept, so a fixed
 * callback is picked up by the next call.
 *
 * @internal
 * @example
 * ```ts
 * const planFor = methodPlans(checked);
 * const planned = planFor('/orders.v1.Orders/Get', true); // MethodPlan | { problem }
 * ```
 */
export function methodPlans(
  options: CheckedInterceptorOptions,
): (path: string, replayCandidate: boolean) => MethodPlan | { readonly problem: string } {
  const plans = new Map<string, MethodPlan>();
  return (path, replayCandidate) => {
    const known = plans.get(path);
    if (known !== undefined) return known;
    const planned = planMethod(options.tokens, path, replayCandidate, options);
    if (!('problem' in planned)) plans.set(path, planned);
    return planned;
  };
}

/**
 * The provider's cached token for the plan's scopes, if it has one (`getCachedToken` is optional);
 * `undefined` if that throws or answers anything but an object: a custom provider's bug must not
 * throw out of a call. Takes any object with the plan's `tokens` and `getTokenOptions`.
 *
 * @internal
 * @example
 * ```ts
 * const token = cachedToken(plan); // AccessToken | undefined, never waits
 * ```
 */
export function cachedToken(
  plan: Pick<MethodPlan, 'tokens' | 'getTokenOptions'>,
): { readonly accessToken: string } | undefined {
  let token: unknown;
  try {
    token = plan.tokens.getCachedToken?.(plan.getTokenOptions);
  } catch {
    return undefined;
  }
  return typeof token === 'object' && token !== null ? (token as { readonly accessToken: string }) : undefined;
}
