import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { MockTokenServer, type MockTokenServerOptions, type TokenServerFault } from '../../src/testing/index.js';

/** A started server with no client, closed when the test ends. */
async function startServer(t: TestContext, options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
  const server = await MockTokenServer.start(options);
  t.after(() => server.close());
  return server;
}

/** Options as a JavaScript caller or a config file may pass them: unchecked by the compiler. */
function loose<T>(value: Record<string, unknown>): T {
  return value as T;
}

describe('start options', () => {
  test('refuses an unknown option and suggests tokenLifetimeSec for tokenLifetime', async () => {
    await assert.rejects(MockTokenServer.start(loose({ tokenLifetime: 60 })), {
      name: 'TypeError',
      message: 'unknown MockTokenServer option "tokenLifetime"; did you mean "tokenLifetimeSec"?',
    });
  });

  test('refuses omitExpiresIn that is not a boolean, at start and when set later', async (t) => {
    await assert.rejects(MockTokenServer.start(loose({ omitExpiresIn: 'yes' })), {
      name: 'TypeError',
      message: /omitExpiresIn must be true or false, not a string/,
    });
    const server = await startServer(t);
    assert.throws(() => (server.omitExpiresIn = loose<{ v: boolean }>({ v: 'yes' }).v), {
      name: 'TypeError',
      message: /omitExpiresIn must be true or false/,
    });
    assert.equal(server.omitExpiresIn, false);
  });

  test('refuses a discovery mode it does not know, listing the known ones', async () => {
    await assert.rejects(MockTokenServer.start(loose({ discovery: 'rfc8414' })), {
      name: 'TypeError',
      message: 'MockTokenServer option discovery must be one of "both", "oauth", "oidc", "none"',
    });
  });
});

describe('registration', () => {
  test('refuses an unknown addClient field and suggests clientSecret for clientSecrets', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.addClient(loose({ clientId: 'orders-svc', clientSecrets: ['s'] })), {
      name: 'TypeError',
      message: 'unknown addClient option "clientSecrets"; did you mean "clientSecret"?',
    });
  });

  test('refuses an authentication method the server does not know', async (t) => {
    const server = await startServer(t);
    assert.throws(
      () => server.addClient(loose({ clientId: 'orders-svc', clientSecret: 's', authMethods: ['client_secret_jwt'] })),
      {
        name: 'TypeError',
        message:
          /^addClient authMethods: unknown method "client_secret_jwt"; the methods are client_secret_basic, client_secret_post, private_key_jwt$/,
      },
    );
  });

  test('refuses an unknown addServiceAccount field and suggests allowedScopes for allowedScope', async (t) => {
    const server = await startServer(t);
    assert.throws(
      () =>
        server.addServiceAccount(
          loose({ clientEmail: 'robot@example.test', publicKey: 'unused', allowedScope: ['x'] }),
        ),
      {
        name: 'TypeError',
        message: 'unknown addServiceAccount option "allowedScope"; did you mean "allowedScopes"?',
      },
    );
  });
});

describe('faults', () => {
  test('refuses an unknown fault type, names it and lists the valid ones, and queues nothing', async (t) => {
    const server = await startServer(t);
    server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret' });
    assert.throws(() => server.failNext(1, loose({ type: 'eror', status: 500 })), {
      name: 'TypeError',
      message:
        'unknown fault type "eror"; did you mean "error"? The types are error, delay, hang, hang-after-headers, reset, reset-mid-body, body, html, token, echo',
    });
    // Before, the mock queued it and then never answered the request it took.
    const res = await fetch(server.tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'orders-svc',
        client_secret: 'test-secret',
      }),
    });
    assert.equal(res.status, 200);
  });

  test('refuses a fault that is not an object', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, loose<{ v: TokenServerFault }>({ v: 'hang' }).v), {
      name: 'TypeError',
      message: 'failNext: the fault must be an object with a type',
    });
  });

  test('refuses a misspelled field of every fault type and suggests the right one', async (t) => {
    const server = await startServer(t);
    const cases: [Record<string, unknown>, string][] = [
      [
        { type: 'error', status: 503, retryAfterSec: 3 },
        'unknown "error" fault option "retryAfterSec"; did you mean "retryAfter"?',
      ],
      [{ type: 'delay', delayMs: 10 }, 'unknown "delay" fault option "delayMs"'],
      [{ type: 'hang', ms: 10 }, 'unknown "hang" fault option "ms"'],
      [{ type: 'hang-after-headers', status: 200 }, 'unknown "hang-after-headers" fault option "status"'],
      [{ type: 'reset', after: 1 }, 'unknown "reset" fault option "after"'],
      [{ type: 'reset-mid-body', bytes: 5 }, 'unknown "reset-mid-body" fault option "bytes"'],
      [{ type: 'body', body: '{}', header: {} }, 'unknown "body" fault option "header"; did you mean "headers"?'],
      [{ type: 'html', stauts: 504 }, 'unknown "html" fault option "stauts"; did you mean "status"?'],
      [
        { type: 'token', jwtLifetime: 60 },
        'unknown "token" fault option "jwtLifetime"; did you mean "jwtLifetimeSec"?',
      ],
      [{ type: 'echo', part: ['body'] }, 'unknown "echo" fault option "part"; did you mean "parts"?'],
    ];
    for (const [fault, message] of cases) {
      assert.throws(
        () => server.failNext(1, loose(fault)),
        (err: unknown) => {
          assert.ok(err instanceof TypeError, fault.type as string);
          assert.ok(err.message.startsWith(message), `${err.message} starts with ${message}`);
          return true;
        },
      );
    }
  });

  test('refuses fault booleans that are not booleans', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, loose({ type: 'error', status: 401, wwwAuthenticate: 'false' })), {
      name: 'TypeError',
      message: '"error" fault option wwwAuthenticate must be true or false, not a string',
    });
    assert.throws(() => server.failNext(1, loose({ type: 'token', omitExpiresIn: 1 })), {
      name: 'TypeError',
      message: '"token" fault option omitExpiresIn must be true or false, not number',
    });
  });

  test('refuses a status that is not an HTTP status and a fault without its required fields', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, { type: 'error', status: 42 }), {
      name: 'TypeError',
      message: '"error" fault option status must be a whole number from 100 to 599',
    });
    assert.throws(() => server.failNext(1, loose({ type: 'error' })), {
      name: 'TypeError',
      message: '"error" fault option status must be a whole number from 100 to 599',
    });
    assert.throws(() => server.failNext(1, { type: 'delay', ms: -1 }), {
      name: 'TypeError',
      message: '"delay" fault option ms must be a number of milliseconds >= 0',
    });
    assert.throws(() => server.failNext(1, loose({ type: 'body' })), {
      name: 'TypeError',
      message: '"body" fault option body must be a string or a Buffer',
    });
  });

  test('refuses a token fault that both sets and omits expires_in', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, { type: 'token', expiresInSec: 60, omitExpiresIn: true }), {
      name: 'TypeError',
      message: '"token" fault options expiresInSec and omitExpiresIn exclude each other',
    });
  });

  test('refuses a token fault whose issuedTokenType is not a non-empty string', async (t) => {
    const server = await startServer(t);
    for (const issuedTokenType of ['', 42]) {
      assert.throws(
        () => server.failNext(1, loose({ type: 'token', issuedTokenType })),
        (err: unknown) =>
          err instanceof TypeError &&
          /^"token" fault option issuedTokenType must be a non-empty string/.test(err.message),
      );
    }
  });

  test('refuses echo parts and places it does not know', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, loose({ type: 'echo', parts: ['cookie'] })), {
      name: 'TypeError',
      message: '"echo" fault option parts: unknown part "cookie"; the parts are authorization, body, secret, assertion',
    });
    assert.throws(() => server.failNext(1, loose({ type: 'echo', into: ['headers'] })), {
      name: 'TypeError',
      message:
        '"echo" fault option into: unknown place "headers"; the places are error, error_description, www-authenticate',
    });
  });
});
