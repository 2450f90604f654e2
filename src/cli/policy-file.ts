import { readFileSync } from 'node:fs';
import { AuthConfigError } from '../common/config-error.js';
import { checkOptionNames } from '../common/option-checks.js';
import { Policy } from '../server/policy.js';
import { UsageError } from './command-line.js';

/** What a policy file may hold: the server options of the same names, in the same shape. */
const policyFileKeys = ['methods', 'publicMethods'] as const;

/**
 * The policy in the JSON file at `path`, for `grpc-oauth2 verify --policy`: an object with `methods`
 * (required) and `publicMethods` (optional; default the health service), as `createServerAuthInterceptor`
 * takes them, checked by the server's own `Policy`. A server that keeps its policy in such a file
 * passes the parsed object's two members as its options.
 *
 * @throws UsageError naming what is wrong (the file, its JSON, an unknown key, or the policy's own
 * AuthConfigError message); never the file's content beyond a key or method path.
 * @example
 * ```ts
 * const policy = readPolicyFile('policy.json'); // {"methods": {"/orders.v1.Orders/GetOrder": ["orders.read"]}}
 * ```
 */
export function readPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--policy: the file could not be read (${(error as { code?: string }).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON.parse's message: it quotes the file, which might hold anything.
    throw new UsageError('--policy: the file is not JSON');
  }
  try {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new AuthConfigError('the file must hold a JSON object with methods (and optionally publicMethods)');
    checkOptionNames(parsed, policyFileKeys, 'policy file key');
    const { methods, publicMethods } = parsed as Record<string, unknown>;
    return new Policy(methods, publicMethods, 'the policy file');
  } catch (error) {
    if (error instanceof AuthConfigError) throw new UsageError(`--policy: ${error.message}`);
    throw error;
  }
}
