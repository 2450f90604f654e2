import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChild } from '../helpers/child-process.js';
import { clientId, clientSecret } from '../helpers/token-fixtures.js';

const script = 'test/fixtures/token-lifecycle.ts';

describe('NODE_DEBUG=grpc-oauth2', () => {
  it('prints one redacted line per lifecycle step: requests, answers, refreshes, failures with the next delay, waits, refusals', async (t) => {
    const { code, stdout, stderr } = await runChild(t, script, [], { env: { NODE_DEBUG: 'grpc-oauth2' } });
    assert.equal(code, 0, stderr);
    const lines = stderr.trim().split('\n');
    for (const line of lines) assert.match(line, /^GRPC-OAUTH2 \d+: /);
    const expected = [
      /token request 1 sent to http:\/\/127\.0\.0\.1:\d+\/oauth2\/token for \[orders\.read\]$/,
      /token request 1 answered: a token valid for 3600 s$/,
      /token issued for \[orders\.read\]: valid 3600 s; refresh scheduled at \S+Z \(in \d+ s\); \d+ ms after the first attempt$/,
      /a caller waited \d+ ms for a token for \[orders\.read\]: got one$/,
      /token request 2 failed: server_error \(HTTP 503\): token endpoint \S+ answered HTTP 503$/,
      /refresh failed for \[orders\.write\] \(attempt 1\): server_error; next attempt in \d+ ms; no usable token cached$/,
      /fatal failure for \[inventory\.read\]: invalid_client; callers get this error for \d+ ms, then one request tries again$/,
      /a caller waited \d+ ms for a token for \[inventory\.read\]: gave up with invalid_client$/,
      /refresh started in the background for \[orders\.read\]: the token expires in \d+ s$/,
      /token issued for \[orders\.read\]: .* \(background\)$/,
      /refused: createAuthInterceptor: refusing to attach OAuth2 access tokens to insecure \(plaintext\) channel credentials/,
      /TokenManager for \S+ closed$/,
    ];
    for (const pattern of expected)
      assert.ok(
        lines.some((line) => pattern.test(line)),
        `a line matching ${pattern}`,
      );

    const { tokens } = JSON.parse(stdout) as { tokens: string[] };
    assert.equal(tokens.length, 3);
    const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    for (const secret of [clientSecret, basic, encodeURIComponent(clientSecret), ...tokens])
      assert.ok(!stderr.includes(secret), 'no secret or token on stderr');
    assert.ok(!/eyJ[\w-]+\.eyJ/.test(stderr), 'nothing JWT-like on stderr');
  });

  it('prints nothing without NODE_DEBUG, and the package works without @opentelemetry/api installed', async (t) => {
    const { code, stdout, stderr } = await runChild(t, script, [], {
      nodeArgs: ['--import', './test/fixtures/without-opentelemetry.ts'],
    });
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const { tokens, openTelemetry } = JSON.parse(stdout) as { tokens: string[]; openTelemetry: boolean };
    assert.equal(openTelemetry, false, 'the preload hid the package');
    assert.equal(tokens.length, 3);
  });
});
