import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { inspect } from 'node:util';
import { TokenError, TokenManager, type TokenManagerOptions } from '../../src/index.js';
import { createTestCertificates, type MockTokenServer } from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';
import { proxyEnvironment, startForwardProxy } from '../helpers/forward-proxy.js';
import { clientId, clientSecret, startTokenServer } from '../helpers/token-fixtures.js';

const proxyUser = 'proxy-user';
const proxyPassword = 'Pr0xy-pa55word/with:odd@chars';
const userInfo = `${proxyUser}:${encodeURIComponent(proxyPassword)}`;
const proxyCredentialForms = [
  proxyPassword,
  encodeURIComponent(proxyPassword),
  userInfo,
  Buffer.from(`${proxyUser}:${proxyPassword}`).toString('base64'),
];

function manager(t: TestContext, server: MockTokenServer, options: TokenManagerOptions = {}): TokenManager {
  const tokens = new TokenManager({
    issuer: server.issuer,
    clientId,
    clientSecret,
    allowInsecureRequests: true,
    retry: { retries: 0 },
    ...options,
  });
  t.after(() => tokens.close());
  return tokens;
}

function assertNoProxyCredentials(value: unknown): void {
  const texts = [
    inspect(value, { showHidden: true, depth: 8 }),
    JSON.stringify(value),
    value instanceof Error ? `${value.message}\n${value.stack ?? ''}` : '',
  ];
  for (const text of texts)
    for (const form of proxyCredentialForms) assert.ok(!text.includes(form), `${form} in ${text.slice(0, 300)}`);
}

describe('proxies for token and discovery requests', () => {
  it('sends discovery and token requests through the proxy option', async (t) => {
    proxyEnvironment(t, {});
    const server = await startTokenServer(t);
    const proxy = await startForwardProxy(t);
    await manager(t, server, { proxy: proxy.url }).getToken();
    assert.deepEqual(
      proxy.requests.map((r) => `${r.kind} ${r.target}`),
      ['forward GET /.well-known/oauth-authorization-server', 'forward POST /oauth2/token'],
    );
  });

  it('honours HTTP_PROXY from the environment', async (t) => {
    const server = await startTokenServer(t);
    const proxy = await startForwardProxy(t);
    proxyEnvironment(t, { HTTP_PROXY: proxy.url });
    await manager(t, server).getToken();
    assert.equal(proxy.requests.length, 2);
  });

  it('goes direct to a host NO_PROXY lists, loopback included', async (t) => {
    const server = await startTokenServer(t);
    const proxy = await startForwardProxy(t);
    proxyEnvironment(t, { http_proxy: proxy.url, NO_PROXY: 'localhost,127.0.0.1' });
    await manager(t, server).getToken();
    assert.equal(proxy.requests.length, 0);
    assert.equal(server.tokenRequestCount, 1);
  });

  it('turns proxies off with proxy: false, whatever the environment says', async (t) => {
    const server = await startTokenServer(t);
    const proxy = await startForwardProxy(t);
    proxyEnvironment(t, { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url });
    await manager(t, server, { proxy: false }).getToken();
    assert.equal(proxy.requests.length, 0);
  });

  it('tunnels a request to an https token endpoint through CONNECT', async (t) => {
    const certs = await createTestCertificates();
    let connections = 0;
    const https = createServer({ key: certs.serverKey, cert: certs.serverCert }, (_req, res) => res.end());
    https.on('connection', () => connections++);
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => https.close(resolve)));
    const port = (https.address() as AddressInfo).port;
    const proxy = await startForwardProxy(t);
    proxyEnvironment(t, { HTTPS_PROXY: proxy.url });

    const tokens = new TokenManager({
      tokenEndpoint: `https://127.0.0.1:${port}/token`,
      clientId,
      clientSecret,
      retry: { retries: 0 },
    });
    t.after(() => tokens.close());
    // The client does not trust the test CA: the handshake fails, after it went through the tunnel.
    await assert.rejects(tokens.getToken(), { code: 'network' });
    assert.deepEqual(
      proxy.requests.map((r) => `${r.kind} ${r.target}`),
      [`connect 127.0.0.1:${port}`],
    );
    assert.equal(connections, 1);
  });

  it('authenticates to the proxy with the credentials in its URL', async (t) => {
    proxyEnvironment(t, {});
    const server = await startTokenServer(t);
    const proxy = await startForwardProxy(t, { user: proxyUser, password: proxyPassword });
    const tokens = manager(t, server, { proxy: proxy.url.replace('//', `//${userInfo}@`) });
    assertNoProxyCredentials(await tokens.getToken());
    assert.equal(proxy.requests.length, 2);
    assert.equal(server.tokenRequestCount, 1);
  });

  it('keeps the proxy credentials out of the error when the proxy refuses them or is down', async (t) => {
    proxyEnvironment(t, {});
    const server = await startTokenServer(t);
    const proxy = await startForwardProxy(t, { user: proxyUser, password: 'another-password' });
    for (const url of [proxy.url.replace('//', `//${userInfo}@`), `http://${userInfo}@127.0.0.1:1`]) {
      const tokens = manager(t, server, { tokenEndpoint: server.tokenEndpoint, issuer: undefined, proxy: url });
      const events: unknown[] = [];
      tokens.on('fatalFailure', (event) => events.push(event));
      tokens.on('refreshFailed', (event) => events.push(event));
      const error = await tokens.getToken().then(
        () => assert.fail('expected a failure'),
        (err: unknown) => err,
      );
      assert.ok(error instanceof TokenError, String(error));
      assertNoProxyCredentials(error);
      assertNoProxyCredentials((error as { cause?: unknown }).cause);
      assertNoProxyCredentials(events);
    }
    assert.ok(proxy.requests.length >= 1, 'the proxy was asked');
  });
});

describe('proxy options', () => {
  const base = { tokenEndpoint: 'https://auth.example.test/token', clientId: 'c', clientSecret: 's' };
  const cases: [string, unknown, RegExp][] = [
    [
      'a URL that does not parse',
      `not a url ${proxyPassword}`,
      /^proxy is not a valid URL \(its value is not shown: it may hold credentials\)$/,
    ],
    ['a SOCKS proxy', `socks5://${userInfo}@proxy:1080`, /^proxy must be an http:\/\/ or https:\/\/ URL$/],
    ['true', true, /^proxy must be a proxy URL \(http:\/\/host:port\) or false$/],
  ];
  for (const [what, proxy, message] of cases) {
    it(`refuses ${what}, without showing it`, () => {
      assert.throws(
        () => new TokenManager({ ...base, proxy } as TokenManagerOptions),
        (err: unknown) => {
          invalidOption(message)(err);
          assertNoProxyCredentials(err);
          return true;
        },
      );
    });
  }

  it('refuses an unusable HTTPS_PROXY, naming the variable and not its value', (t) => {
    proxyEnvironment(t, { HTTPS_PROXY: `::${proxyPassword}` });
    assert.throws(
      () => new TokenManager(base),
      (err: unknown) => {
        invalidOption(/^HTTPS_PROXY is not a valid proxy URL/)(err);
        assertNoProxyCredentials(err);
        return true;
      },
    );
  });
});
