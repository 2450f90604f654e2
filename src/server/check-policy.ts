// checkPolicy: compares an interceptor's policy with the services the server really serves, so a
// misspelled path is a start-up error instead of an open (or closed) door.
import type { ServiceDefinition } from '@grpc/grpc-js';
import { checkBoolean, checkOptionNames, closestName } from '../common/option-checks.js';
import { AuthConfigError } from '../common/config-error.js';
import { policyOf } from './interceptor.js';

/** Options of {@link checkPolicy}. */
export interface CheckPolicyOptions {
  /** Also fail for a method of the services that the policy names nowhere (it would be refused). Default `false`. */
  requireAll?: boolean;
}

/** A service: a grpc-js `ServiceDefinition`, or a client constructor that carries one as `.service`. */
export type ServiceLike = ServiceDefinition | { readonly service: ServiceDefinition };

/**
 * Checks the policy of `auth` (made by `createServerAuthInterceptor`) against `services`, the
 * definitions the server registers. Fails for every path in `methods` or a user-given
 * `publicMethods` that names no method of them (with the likely intended one), and for a service
 * wildcard whose service is not among them. With `requireAll`, also for every method the policy
 * forgets. All problems are listed in one error. Call it at start-up, next to `addService`.
 *
 * @throws AuthConfigError (a TypeError) listing each problem.
 * @example
 * ```ts
 * checkPolicy(auth, [OrdersService, HealthService], { requireAll: true });
 * // AuthConfigError: checkPolicy: methods path "/orders.v1.Orders/GetOrders" names no method; did you mean "/orders.v1.Orders/GetOrder"?
 * ```
 */
export function checkPolicy(auth: unknown, services: readonly ServiceLike[], options: CheckPolicyOptions = {}): void {
  checkOptionNames(options, ['requireAll'], 'checkPolicy option');
  const requireAll = checkBoolean(options.requireAll, 'checkPolicy: requireAll') ?? false;
  const policy = policyOf(auth);
  if (policy === undefined)
    throw new AuthConfigError(
      'checkPolicy: the first argument must be an interceptor made by createServerAuthInterceptor',
    );
  const paths = methodPathsOf(services);
  const serviceNames = new Set(paths.map((path) => path.slice(0, path.lastIndexOf('/') + 1)));

  const problems: string[] = [];
  for (const { path, option, isDefault } of policy.entries) {
    if (isDefault) continue;
    if (path.endsWith('/*')) {
      if (!serviceNames.has(path.slice(0, -1)))
        problems.push(
          `${option} wildcard "${path}" names no service${suggest(path.slice(0, -1), [...serviceNames], '*')}`,
        );
    } else if (!paths.includes(path)) {
      problems.push(`${option} path "${path}" names no method${suggest(path, paths, '')}`);
    }
  }
  if (requireAll) {
    for (const path of paths)
      if (policy.ruleFor(path) === undefined)
        problems.push(`method "${path}" is in no entry of methods or publicMethods (calls to it are refused)`);
  }
  if (problems.length > 0) throw new AuthConfigError(`checkPolicy: ${problems.join('; ')}`);
}

function suggest(name: string, known: readonly string[], suffix: string): string {
  const match = closestName(name, known);
  return match === undefined ? '' : `; did you mean "${match}${suffix}"?`;
}

function methodPathsOf(services: readonly ServiceLike[]): string[] {
  if (!Array.isArray(services))
    throw new AuthConfigError('checkPolicy: services must be an array of service definitions');
  const paths: string[] = [];
  for (const service of services as unknown[]) {
    const definition =
      (typeof service === 'function' || (typeof service === 'object' && service !== null)) && 'service' in service
        ? service.service
        : service;
    if (typeof definition !== 'object' || definition === null)
      throw new AuthConfigError('checkPolicy: each service must be a grpc-js service definition');
    for (const method of Object.values(definition as Record<string, unknown>)) {
      const path = (method as { path?: unknown } | null)?.path;
      if (typeof path !== 'string')
        throw new AuthConfigError(
          'checkPolicy: each service must be a grpc-js service definition (methods with a path)',
        );
      paths.push(path);
    }
  }
  return paths;
}
