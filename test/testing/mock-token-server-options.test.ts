import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  AuthConfigError,
  MockTokenServer,
  type MockTokenServerOptions,
  type TokenServerFault,
} from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';

/** A started server with no client, closed when the test ends. */
async function startServer(t: TestContext, options: MockTokenServerOptions = {}): Promise<MockTokenServer> {
  const server = await MockTokenServer.start(options);
  t.after(() => server.close());
  return server;
}

/** The HTTP status of a client-credentials request for orders-svc (secret `test-secret`). */
async function tokenRequestStatus(server: MockTokenServer): Promise<number> {
  const res = await fetch(server.tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'orders-svc',
      client_secret: 'test-secret',
    }),
  });
  return res.status;
}

/** Options as a JavaScript caller or a config file may pass them: unchecked by the compiler. */
function loose<T>(value: Record<string, unknown>): T {
  return value as T;
}

describe('start options', () => {
  test('refuses an unknown option and suggests tokenLifetimeSec for tokenLifetime', async () => {
    await assert.rejects(MockTokenServer.start(loose({ tokenLifetime: 60 })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: 'unknown MockTokenServer option "tokenLifetime"; did you mean "tokenLifetimeSec"?',
    });
  });

  test('refuses omitExpiresIn that is not a boolean, at start and when set later', async (t) => {
    await assert.rejects(MockTokenServer.start(loose({ omitExpiresIn: 'yes' })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: /omitExpiresIn must be true or false, not a string/,
    });
    const server = await startServer(t);
    assert.throws(() => (server.omitExpiresIn = loose<{ v: boolean }>({ v: 'yes' }).v), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: /omitExpiresIn must be true or false/,
    });
    assert.equal(server.omitExpiresIn, false);
  });

  test('refuses a discovery mode it does not know, listing the known ones', async () => {
    await assert.rejects(MockTokenServer.start(loose({ discovery: 'rfc8414' })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: 'MockTokenServer option discovery must be one of "both", "oauth", "oidc", "none"',
    });
  });

  test('refuses an access token format it does not know, and a misspelled accessTokenFormat', async () => {
    await assert.rejects(
      MockTokenServer.start(loose({ accessTokenFormat: 'reference' })),
      invalidOption('MockTokenServer option accessTokenFormat must be one of "jwt", "opaque"'),
    );
    await assert.rejects(
      MockTokenServer.start(loose({ accesTokenFormat: 'opaque' })),
      invalidOption('unknown MockTokenServer option "accesTokenFormat"; did you mean "accessTokenFormat"?'),
    );
  });
});

describe('registration', () => {
  test('refuses an unknown addClient field and suggests clientSecret for clientSecrets', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.addClient(loose({ clientId: 'orders-svc', clientSecrets: ['s'] })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: 'unknown addClient option "clientSecrets"; did you mean "clientSecret"?',
    });
  });

  test('refuses an authentication method the server does not know', async (t) => {
    const server = await startServer(t);
    assert.throws(
      () => server.addClient(loose({ clientId: 'orders-svc', clientSecret: 's', authMethods: ['client_secret_jwt'] })),
      {
        name: 'AuthConfigError',
        code: 'invalid_option',
        message:
          /^addClient authMethods: unknown method "client_secret_jwt"; the methods are client_secret_basic, client_secret_post, private_key_jwt, tls_client_auth, self_signed_tls_client_auth$/,
      },
    );
  });

  test('refuses an addClient accessTokenFormat it does not know', async (t) => {
    const server = await startServer(t);
    assert.throws(
      () => server.addClient(loose({ clientId: 'orders-svc', clientSecret: 's', accessTokenFormat: 'JWT' })),
      invalidOption('addClient accessTokenFormat must be one of "jwt", "opaque"'),
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
        name: 'AuthConfigError',
        code: 'invalid_option',
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
      name: 'AuthConfigError',
      code: 'invalid_option',
      message:
        'unknown fault type "eror"; did you mean "error"? The types are error, delay, hang, hang-after-headers, reset, reset-mid-body, body, html, token, echo',
    });
    // Before, the mock queued it and then never answered the request it took.
    assert.equal(await tokenRequestStatus(server), 200);
  });

  test('refuses a count that is not a whole number >= 0, and queues nothing', async (t) => {
    const server = await startServer(t);
    for (const count of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => server.failNext(count, { type: 'hang' }),
        invalidOption('failNext: count must be a whole number >= 0'),
      );
    }
    server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret' });
    assert.equal(await tokenRequestStatus(server), 200);
  });

  test('refuses a fault that is not an object', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, loose<{ v: TokenServerFault }>({ v: 'hang' }).v), {
      name: 'AuthConfigError',
      code: 'invalid_option',
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
          assert.ok(err instanceof AuthConfigError && err.code === 'invalid_option', fault.type as string);
          assert.ok(err.message.startsWith(message), `${err.message} starts with ${message}`);
          return true;
        },
      );
    }
  });

  test('refuses fault booleans that are not booleans', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, loose({ type: 'error', status: 401, wwwAuthenticate: 'false' })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: '"error" fault option wwwAuthenticate must be true or false, not a string',
    });
    assert.throws(() => server.failNext(1, loose({ type: 'token', omitExpiresIn: 1 })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: '"token" fault option omitExpiresIn must be true or false, not number',
    });
  });

  test('refuses a status that is not an HTTP status and a fault without its required fields', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, { type: 'error', status: 42 }), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: '"error" fault option status must be a whole number from 100 to 599',
    });
    assert.throws(() => server.failNext(1, loose({ type: 'error' })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: '"error" fault option status must be a whole number from 100 to 599',
    });
    assert.throws(() => server.failNext(1, { type: 'delay', ms: -1 }), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: '"delay" fault option ms must be a number of milliseconds >= 0',
    });
    assert.throws(() => server.failNext(1, loose({ type: 'body' })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: '"body" fault option body must be a string or a Buffer',
    });
  });

  test('refuses a token fault that both sets and omits expires_in', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, { type: 'token', expiresInSec: 60, omitExpiresIn: true }), {
      name: 'AuthConfigError',
      code: 'invalid_option',
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

  test('refuses an unknown failNext option or endpoint, and queues nothing', async (t) => {
    const server = await startServer(t);
    server.addClient({ clientId: 'orders-svc', clientSecret: 'test-secret' });
    assert.throws(
      () => server.failNext(1, { type: 'error', status: 503 }, loose({ endpoints: 'introspection' })),
      invalidOption('unknown failNext option "endpoints"; did you mean "endpoint"?'),
    );
    assert.throws(
      () => server.failNext(1, { type: 'error', status: 503 }, loose({ endpoint: 'introspect' })),
      invalidOption('failNext option endpoint must be one of "token", "introspection", "revocation"'),
    );
    assert.equal(await tokenRequestStatus(server), 200);
  });

  test('refuses echo parts and places it does not know', async (t) => {
    const server = await startServer(t);
    assert.throws(() => server.failNext(1, loose({ type: 'echo', parts: ['cookie'] })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message: '"echo" fault option parts: unknown part "cookie"; the parts are authorization, body, secret, assertion',
    });
    assert.throws(() => server.failNext(1, loose({ type: 'echo', into: ['headers'] })), {
      name: 'AuthConfigError',
      code: 'invalid_option',
      message:
        '"echo" fault option into: unknown place "headers"; the places are error, error_description, www-authenticate',
    });
  });
});
