// Runs TypeScript entry points (the CLI, test scripts) in a child node process through tsx, the way a
// user's shell would run the built ones: own environment, stdin, exit code. Stopped by PID when the
// test ends, if it is still running.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceCondition } from './run-script.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** How a finished child process exited, and what it printed. */
export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link startChild}. */
export interface ChildOptions {
  /** Environment variables on top of a minimal one (PATH, HOME); `OAUTH2_*` and NODE_DEBUG of the test runner are not passed on. */
  readonly env?: Readonly<Record<string, string>>;
  /** Written to stdin, which is then closed. Default: stdin closed at once. */
  readonly input?: string;
  /** Extra node flags, after tsx's `--import` and before the script. */
  readonly nodeArgs?: readonly string[];
  /**
   * Run the script through tsx, with the package's name resolved to `src/` (`sourceCondition`).
   * Default true; false for JavaScript, which starts faster.
   */
  readonly tsx?: boolean;
}

/** A running child: its process, and its result once it exits. */
export interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly result: Promise<ChildResult>;
  /** Everything printed to stdout so far. */
  stdout(): string;
}

/**
 * Starts `node --import tsx --conditions=grpc-oauth2-credentials-source <script> ...args` (or
 * `node <script>`) in the project root.
 */
export function startChild(
  t: TestContext,
  script: string,
  args: readonly string[] = [],
  options: ChildOptions = {},
): Child {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env };
  const loader = options.tsx === false ? [] : ['--import', 'tsx', sourceCondition];
  const proc = spawn(process.execPath, [...loader, ...(options.nodeArgs ?? []), script, ...args], { cwd: root, env });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.stdin.end(options.input ?? '');
  const result = new Promise<ChildResult>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) process.kill(proc.pid, 'SIGKILL');
  });
  return { process: proc, result, stdout: () => stdout };
}

/** Runs a script to its end. */
export function runChild(
  t: TestContext,
  script: string,
  args: readonly string[] = [],
  options: ChildOptions = {},
): Promise<ChildResult> {
  return startChild(t, script, args, options).result;
}
