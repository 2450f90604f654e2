import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it, type TestContext } from 'node:test';
import { TokenError } from '../../src/index.js';
import { createManager, startTokenServer } from '../helpers/token-fixtures.js';

const requestTimeoutMs = 300;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs one getToken() against the faulted server; returns the error and how long it took. */
async function failingCall(t: TestContext, setup: Parameters<typeof createManager>[2] = {}) {
  const server = await startTokenServer(t);
  const tokens = createManager(t, server, { requestTimeoutMs, retry: { retries: 0 }, ...setup });
  return { server, tokens };
}

async function timed(promise: Promise<unknown>): Promise<{ error: TokenError; elapsedMs: number }> {
  const start = performance.now();
  const error = await promise.then(
    () => assert.fail('expected a TokenError'),
    (err: unknown) => err,
  );
  assert.ok(error instanceof TokenError, String(error));
  return { error, elapsedMs: performance.now() - start };
}

describe('hostile token server', () => {
  it('ends a slow-loris answer (headers, then nothing) within requestTimeoutMs', async (t) => {
    const { server, tokens } = await failingCall(t);
    server.failNext(1, { type: 'hang-after-headers' });
    const { error, elapsedMs } = await timed(tokens.getToken());
    assert.equal(error.code, 'timeout');
    assert.ok(elapsedMs < requestTimeoutMs + 1_000, `${elapsedMs} ms`);
  });

  for (const [what, headers] of [
    ['with a Content-Length', {}],
    ['streamed without a length', { 'transfer-encoding': 'chunked' }],
  ] as const) {
    it(`refuses a 50 MB answer ${what} after reading at most 1 MiB, with memory bounded`, async (t) => {
      const { server, tokens } = await failingCall(t);
      const huge = Buffer.alloc(50 * 1024 * 1024, 0x61);
      server.failNext(1, { type: 'body', body: huge, headers });
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const { error, elapsedMs } = await timed(tokens.getToken());
      gc();
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      assert.equal(error.code, 'invalid_response');
      assert.match(error.message, /larger than 1048576 bytes/);
      assert.ok(elapsedMs < requestTimeoutMs + 1_000, `${elapsedMs} ms`);
      assert.ok(heapGrowth < 8 * 1024 * 1024, `heap grew ${heapGrowth} bytes`);
    });
  }

  it('does not follow a redirect to another host, and sends that host nothing', async (t) => {
    let reached = 0;
    const elsewhere = createServer((_req, res) => {
      reached++;
      res.end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
    try {
      const { server, tokens } = await failingCall(t);
      const location = `http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}/steal`;
      server.failNext(1, { type: 'body', status: 307, body: '', headers: { location } });
      const { error } = await timed(tokens.getToken());
      assert.equal(error.code, 'invalid_response');
      assert.equal(error.status, 307);
      assert.equal(error.retryable, false);
      assert.equal(reached, 0);
    } finally {
      elsewhere.closeAllConnections();
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  it('reports a connection reset in the middle of the body as a network error', async (t) => {
    const { server, tokens } = await failingCall(t);
    server.failNext(1, { type: 'reset-mid-body' });
    const { error, elapsedMs } = await timed(tokens.getToken());
    assert.equal(error.code, 'network');
    assert.equal(error.retryable, true);
    assert.ok(elapsedMs < requestTimeoutMs + 1_000);
  });
});
