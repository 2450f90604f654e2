import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

/**
 * The export condition under which the package's own name (`grpc-oauth2-credentials`, as the examples
 * import it) resolves to `src/` rather than `dist/`. Every TypeScript child a test starts gets it, so
 * what it runs never depends on whether something built dist/ before.
 */
export const sourceCondition = '--conditions=grpc-oauth2-credentials-source';

/** What a finished command printed, and how it exited. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command in `cwd` and resolves when it exits. `cleanup` is the test's `t.after` (or a suite's
 * `after`): the child is killed by its PID then if it is still running (a failed or timed-out test),
 * and after `limitMs` in any case.
 */
export function runCommand(
  cleanup: (fn: () => void) => void,
  command: string,
  args: readonly string[],
  cwd: string,
  limitMs = 60_000,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    // NODE_TEST_CONTEXT would make a node:test child (an example that is a test file) report to this
    // runner in its binary protocol instead of printing its results: the child is a program of its own.
    const { NODE_TEST_CONTEXT: _runnerContext, ...env } = process.env;
    const proc = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, npm_config_update_notifier: 'false' },
    });
    cleanup(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${limitMs} ms:\n${stdout}\n${stderr}`));
    }, limitMs);
    proc.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** What a finished script printed, and how it exited. */
export type ScriptResult = CommandResult;

/**
 * Runs a TypeScript file in a child process (through tsx, from the project root) and resolves when
 * it exits on its own; kills it and rejects if it is still running after `limitMs`. Given the test's
 * `t`, it also kills the child, by its PID, after the test (a test that failed or timed out first).
 */
export function runScript(
  path: string,
  args: readonly string[] = [],
  limitMs = 60_000,
  t?: TestContext,
): Promise<ScriptResult> {
  const cleanup = (fn: () => void): void => t?.after(fn);
  return runCommand(cleanup, process.execPath, [tsx, sourceCondition, path, ...args], root, limitMs);
}
