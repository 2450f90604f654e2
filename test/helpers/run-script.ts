import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

/** What a finished script printed, and how it exited. */
export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a TypeScript file in a child process (through tsx, from the project root) and resolves when
 * it exits on its own; kills it and rejects if it is still running after `limitMs`. Given the test's
 * `t`, it also kills the child, by its PID, after the test (a test that failed or timed out first).
 */
export function runScript(path: string, args: readonly string[] = [], limitMs = 60_000, t?: TestContext): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [tsx, '--conditions=grpc-oauth2-credentials-source', path, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    t?.after(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${path} did not exit on its own within ${limitMs} ms; output so far:\n${stdout}\n${stderr}`));
    }, limitMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
