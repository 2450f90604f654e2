import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { runScript } from '../helpers/run-script.js';

const child = 'test/fixtures/no-close-child.ts';
/** Runs the child with `args`; it is killed after the test if it is still running then. */
const run = (t: TestContext, args: string[]) => runScript(child, args, 20_000, t);

describe('process lifecycle', () => {
  it('lets a process that never calls close() exit on its own', async (t) => {
    const { code, stdout, stderr } = await run(t, []);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /work done/);
  });

  it('exits cleanly when close() is called during an in-flight refresh, with no unhandled rejection', async (t) => {
    const { code, stdout, stderr } = await run(t, ['--close-in-flight']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /in-flight request ended with closed/);
    assert.match(stdout, /work done/);
  });
});
