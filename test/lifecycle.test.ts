import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const child = fileURLToPath(new URL('./fixtures/no-close-child.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

/** Runs the child script and resolves with its exit code and output; fails if it does not exit by itself. */
function run(args: string[], limitMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [tsx, child, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`child did not exit on its own within ${limitMs} ms; stdout: ${stdout}`));
    }, limitMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('process lifecycle', () => {
  it('lets a process that never calls close() exit on its own', async () => {
    const { code, stdout, stderr } = await run([]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /work done/);
  });

  it('exits cleanly when close() is called during an in-flight refresh, with no unhandled rejection', async () => {
    const { code, stdout, stderr } = await run(['--close-in-flight']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /in-flight request ended with closed/);
    assert.match(stdout, /work done/);
  });
});
