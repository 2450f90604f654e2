import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';

const child = 'test/fixtures/no-close-child.ts';
const run = (args: string[]) => runScript(child, args, 20_000);

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
