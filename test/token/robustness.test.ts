import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import { AccessToken, TokenManager, type AccessTokenJson } from '../../src/index.js';
import { createClock, createManager, requestsSettled, startTokenServer, until } from '../helpers/token-fixtures.js';
import { invalidOption } from '../helpers/config-error.js';
import { collectWarnings, warningsEmitted } from '../helpers/grpc-fixture.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('listeners and warnings', () => {
  for (const thrown of [null, undefined, 'a string']) {
    it(`hands out the token when a tokenIssued listener throws ${String(thrown)}`, async (t) => {
      const warnings = collectWarnings(t, 'Warning');
      const server = await startTokenServer(t);
      const tokens = createManager(t, server);
      tokens.on('tokenIssued', () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: a listener that throws a non-error
        throw thrown;
      });
      assert.equal((await tokens.getToken()).tokenType, 'Bearer');
      await until(() => warnings.length > 0);
      assert.match(warnings[0]!.message, /'tokenIssued' listener threw/);
    });
  }

  it('prints no MaxListenersExceededWarning while 11 scope sets back off at once', async (t) => {
    const warnings = collectWarnings(t, 'MaxListenersExceededWarning');
    const clock = createClock();
    const server = await startTokenServer(t, { clock });
    server.failNext(11, { type: 'error', status: 503 });
    const tokens = createManager(t, server, { clock });
    const calls = Array.from({ length: 11 }, (_, i) => tokens.getToken({ scopes: [`set${i}`] }).catch(() => undefined));
    await requestsSettled(tokens);
    await clock.advance(100);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.map((w) => w.message),
      [],
    );
    tokens.close();
    await Promise.all(calls);
  });

  it('warns once when allowInsecureRequests sends credentials to a host that is not loopback', async (t) => {
    const warnings = collectWarnings(t, 'InsecureEndpointWarning');
    const options = { clientId: 'a', clientSecret: 'b', allowInsecureRequests: true };
    new TokenManager({ ...options, tokenEndpoint: 'http://127.0.0.1:9/token' }).close();
    await warningsEmitted();
    assert.equal(warnings.length, 0, 'loopback is quiet');
    new TokenManager({ ...options, tokenEndpoint: 'http://auth.internal.example/token' }).close();
    new TokenManager({ ...options, tokenEndpoint: 'http://auth2.internal.example/token' }).close();
    await warningsEmitted();
    const insecure = warnings;
    assert.equal(insecure.length, 1);
    assert.match(insecure[0]!.message, /PLAINTEXT/);
  });
});

describe('misspelled options', () => {
  const cases: ReadonlyArray<[string, Record<string, unknown>, RegExp]> = [
    [
      "p-retry's minTimeout",
      { retry: { minTimeout: 100 } },
      /unknown retry option "minTimeout"; did you mean "minTimeoutMs"\?/,
    ],
    ["p-retry's factor", { retry: { factor: 2 } }, /unknown retry option "factor"/],
    ['a top-level typo', { maxWait: 1_000 }, /unknown TokenManager option "maxWait"; did you mean "maxWaitMs"\?/],
    ['a string for a boolean', { allowInsecureRequests: 'false' }, /allowInsecureRequests must be true or false/],
  ];
  for (const [what, extra, message] of cases) {
    it(`refuses ${what} with a message naming it`, () => {
      assert.throws(
        () =>
          new TokenManager({
            tokenEndpoint: 'https://auth.example.test/token',
            clientId: 'a',
            clientSecret: 'b',
            ...extra,
          }),
        invalidOption(message),
      );
    });
  }
});

describe('bounded cache', () => {
  it('holds at most 1,000 scope sets: 200,000 distinct ones leave less than 20 MB of heap', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    await tokens.getToken();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200_000; i++) tokens.getCachedToken({ scopes: [`scope.${i}`, 'orders.read'] });
    gc();
    const grownMb = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    t.diagnostic(`heap grew by ${grownMb.toFixed(1)} MB`);
    assert.ok(grownMb < 20, `${grownMb.toFixed(1)} MB`);
    assert.ok(tokens.stats().scopeSets <= 1_000);
    assert.ok(tokens.getCachedToken() !== undefined, 'the configured scope set stays');
  });

  it('counts a use of a scope set given as a new array each time, so a scope set in use is not evicted', async (t) => {
    const server = await startTokenServer(t);
    const tokens = createManager(t, server);
    await tokens.getToken({ scopes: ['orders.write'] });
    for (let i = 0; i < 998; i++) tokens.getCachedToken({ scopes: [`scope.${i}`] });
    assert.ok(tokens.getCachedToken({ scopes: ['orders.write'] }) !== undefined, 'used again, as a fresh array');
    tokens.getCachedToken({ scopes: ['one.more'] });
    assert.ok(
      tokens.getCachedToken({ scopes: ['orders.write'] }) !== undefined,
      'the least recently used set went instead',
    );
  });

  it('drops the least recently used scope sets with their remembered failures', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1_200, { type: 'error', status: 400, error: 'invalid_scope' });
    const tokens = createManager(t, server, { retry: { retries: 0 } });
    for (let i = 0; i < 1_200; i++) await tokens.getToken({ scopes: [`bad.${i}`] }).catch(() => undefined);
    assert.equal(tokens.stats().scopeSets, 1_000);
  });
});

describe('custom token providers', () => {
  it('build tokens with the public AccessToken constructor, which redacts itself', () => {
    const token = new AccessToken('opaque-value-1234', new Date(Date.now() + 60_000), ['orders.read']);
    const json: AccessTokenJson = token.toJSON();
    assert.equal(json.accessToken, '[redacted]');
    assert.equal(token.accessToken, 'opaque-value-1234');
    assert.ok(!JSON.stringify(token).includes('opaque-value-1234'));
    assert.deepEqual(new AccessToken('x', new Date()).scopes, []);
  });
});
