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

  it('keeps a one-shot script alive while it waits for a token, so its catch runs and it exits 1', async (t) => {
    const started = Date.now();
    const { code, stdout, stderr } = await runScript('test/fixtures/one-shot-script.ts', [], 20_000, t);
    assert.equal(code, 1, `exit ${code}: ${stdout}${stderr}`);
    assert.match(stdout, /^caught network\n$/);
    assert.ok(Date.now() - started < 15_000, 'within maxWaitMs, plus start-up');
  });
});
