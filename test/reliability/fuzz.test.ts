import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { AccessToken } from '../../src/index.js';
import { TokenError } from '../../src/index.js';
import { TokenManager } from '../../src/index.js';

/** Cases per run: 1,000 in CI; set FUZZ_RUNS=10000 for a longer run. */
const runs = Number(process.env.FUZZ_RUNS ?? 1000);

/** Codes a TokenError may carry besides an OAuth error code the server sent. */
const ownCodes = new Set([
  'network',
  'timeout',
  'server_error',
  'invalid_response',
  'insecure_endpoint',
  'config',
  'closed',
  'aborted',
]);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A raw token server, closed after the test: it sends exactly the answer last given to `answerWith`,
 * even one no real server would.
 */
async function startRawServer(t: TestContext): Promise<{ endpoint: string; answerWith: (answer: Answer) => void }> {
  let answer: Answer = { status: 200, headers: {}, body: Buffer.alloc(0) };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      try {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    answerWith: (next) => (answer = next),
  };
}

/** The unhandled rejections of the process while the test runs. */
function recordUnhandledRejections(t: TestContext): unknown[] {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  return unhandled;
}

const jsonValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -1,
    1e308,
    Number.MAX_SAFE_INTEGER,
    2 ** 53 + 1,
    '3600',
    '',
    'Bearer',
    'bearer',
    'mac',
    null,
    true,
    [],
    {},
  ),
);
const tokenBody = fc
  .record(
    {
      access_token: fc.oneof(fc.string(), jsonValue),
      token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'mac', 'DPoP', 'N_A'), jsonValue),
      expires_in: jsonValue,
      scope: fc.oneof(fc.string(), jsonValue),
      error: fc.oneof(
        fc.constantFrom('invalid_client', 'invalid_scope', 'server_error', 'temporarily_unavailable', 'x y"z'),
        fc.string(),
      ),
      error_description: fc.string(),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value));
const body = fc.oneof(
  tokenBody,
  tokenBody.map((text) => text.slice(0, Math.floor(text.length / 2))), // truncated
  fc.string(),
  fc.json(),
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.constant('x'.repeat(2 * 1024 * 1024)), // larger than the 1 MiB limit
);
const answers = fc.record({
  status: fc.oneof(
    fc.constantFrom(200, 201, 204, 301, 302, 400, 401, 403, 404, 408, 429, 500, 502, 503, 504),
    fc.integer({ min: 200, max: 599 }),
  ),
  contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/html', 'text/plain', ''),
  retryAfter: fc.option(
    fc.oneof(
      fc.nat().map(String),
      fc.string(),
      fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toUTCString())),
    ),
  ),
  wwwAuthenticate: fc.option(fc.oneof(fc.constant('Basic realm="x", error="invalid_client"'), fc.string())),
  location: fc.option(fc.constant('http://127.0.0.2:1/elsewhere')),
  body,
});

function isHeaderSafe(value: string): boolean {
  return /^[\t\x20-\x7E]*$/.test(value);
}

describe('fuzzed token responses', () => {
  it(`turns every one of ${runs} arbitrary answers into a token or a TokenError with a documented code`, async (t) => {
    const unhandled = recordUnhandledRejections(t);
    const { endpoint, answerWith } = await startRawServer(t);
    await fc.assert(
      fc.asyncProperty(answers, async (generated) => {
        const headers: Record<string, string> = {};
        if (generated.contentType) headers['content-type'] = generated.contentType;
        if (generated.retryAfter !== null && isHeaderSafe(generated.retryAfter))
          headers['retry-after'] = generated.retryAfter;
        if (generated.wwwAuthenticate !== null && isHeaderSafe(generated.wwwAuthenticate))
          headers['www-authenticate'] = generated.wwwAuthenticate;
        if (generated.location !== null) headers.location = generated.location;
        answerWith({ status: generated.status, headers, body: Buffer.from(generated.body) });

        // Each case's manager is closed as the case ends (`using`), not after the whole test: a
        // refresh timer of one case must not ask the server while it gives another case's answer.
        using tokens = new TokenManager({
          tokenEndpoint: endpoint,
          clientId: 'fuzz',
          clientSecret: 'fuzz-secret-value',
          allowInsecureRequests: true,
          retry: { retries: 0 },
          requestTimeoutMs: 5_000,
        });
        let token: AccessToken;
        try {
          token = await tokens.getToken();
        } catch (err) {
          assert.ok(err instanceof TokenError, `not a TokenError: ${String(err)}`);
          const documented =
            ownCodes.has(err.code) ||
            (/^[\x20-\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(err.code) && err.status !== undefined);
          assert.ok(documented, `undocumented code ${err.code}`);
          assert.equal(typeof err.retryable, 'boolean');
          assert.ok(!err.message.includes('fuzz-secret-value'));
          return;
        }
        assert.ok(token instanceof AccessToken);
        assert.ok(token.accessToken.length > 0);
        assert.ok(Number.isFinite(token.expiresAt.getTime()) && token.expiresAt.getTime() > Date.now());
        assert.ok(
          token.expiresAt.getTime() <= Date.now() + 366 * 24 * 3600 * 1000,
          'no token that (almost) never expires',
        );
      }),
      { numRuns: runs },
    );
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });
});
