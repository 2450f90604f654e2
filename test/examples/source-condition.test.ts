// The examples import the package by its own name. Whichever helper a test runs one with, that name
// must resolve to src/ (the grpc-oauth2-credentials-source condition), never to dist/: dist/ exists
// only after a build, so an example run against it would pass or fail by what ran before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChild } from '../helpers/child-process.js';
import { runScript } from '../helpers/run-script.js';

const src = new URL('../../src/', import.meta.url).href;
const script = 'test/fixtures/resolve-package.ts';
const expected = [
  `grpc-oauth2-credentials ${src}index.ts`,
  `grpc-oauth2-credentials/testing ${src}testing/index.ts`,
  `grpc-oauth2-credentials/server ${src}server/index.ts`,
  `grpc-oauth2-credentials/connect ${src}connect/index.ts`,
  `grpc-oauth2-credentials/redis ${src}redis/index.ts`,
];

describe('the package name in a script a test runs', () => {
  it('resolves to src/ through runScript (test/helpers/run-script.ts)', async (t) => {
    const { code, stdout, stderr } = await runScript(script, [], 30_000, t);
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split('\n'), expected);
  });

  it('resolves to src/ through runChild (test/helpers/child-process.ts)', async (t) => {
    const { code, stdout, stderr } = await runChild(t, script);
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trim().split('\n'), expected);
  });
});
