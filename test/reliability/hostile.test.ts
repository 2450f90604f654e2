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

/** A token server and a manager that tries once, with a short request timeout; both closed after the test. */
async function startFaultable(t: TestContext) {
  const server = await startTokenServer(t);
  const tokens = createManager(t, server, { requestTimeoutMs, retry: { retries: 0 } });
  return { server, tokens };
}

/** An HTTP server on 127.0.0.2 (another host than the token server's) that counts its requests, closed after the test. */
async function startElsewhere(t: TestContext): Promise<{ url: string; reached: () => number }> {
  let reached = 0;
  const elsewhere = createServer((_req, res) => {
    reached++;
    res.end();
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
  t.after(async () => {
    elsewhere.closeAllConnections();
    await new Promise((resolve) => elsewhere.close(resolve));
  });
  return { url: `http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}`, reached: () => reached };
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
    const { server, tokens } = await startFaultable(t);
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
      const { server, tokens } = await startFaultable(t);
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
    const elsewhere = await startElsewhere(t);
    const { server, tokens } = await startFaultable(t);
    server.failNext(1, { type: 'body', status: 307, body: '', headers: { location: `${elsewhere.url}/steal` } });
    const { error } = await timed(tokens.getToken());
    assert.equal(error.code, 'invalid_response');
    assert.equal(error.status, 307);
    assert.equal(error.retryable, false);
    assert.equal(elsewhere.reached(), 0);
  });

  it('reports a connection reset in the middle of the body as a network error', async (t) => {
    const { server, tokens } = await startFaultable(t);
    server.failNext(1, { type: 'reset-mid-body' });
    const { error, elapsedMs } = await timed(tokens.getToken());
    assert.equal(error.code, 'network');
    assert.equal(error.retryable, true);
    assert.ok(elapsedMs < requestTimeoutMs + 1_000);
  });
});
