import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthConfigError,
  checkPolicy,
  createServerAuthInterceptor,
  type AuthDecision,
  type ServerAuthOptions,
} from '../../src/server/index.js';
import { callTypes, echoService, methodPaths, unary } from '../helpers/grpc-fixture.js';
import { audience, bearer, echoPolicy, healthService, reasonOf, startAuthServer, startKeyServer } from './fixture.js';

async function scene(t: TestContext, options: Partial<ServerAuthOptions>) {
  const keys = await startKeyServer(t);
  const auth = await startAuthServer(t, {
    issuer: keys.issuer,
    audience,
    jwksUri: keys.jwksUri,
    allowInsecureRequests: true,
    methods: echoPolicy,
    ...options,
  });
  const client = auth.client();
  return { keys, auth, client };
}

const base: ServerAuthOptions = { issuer: 'https://auth.example.test', audience, methods: echoPolicy };

function throwsConfig(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AuthConfigError, String(err));
    assert.equal(err.code, 'invalid_option');
    assert.match(err.message, message);
    return true;
  });
}

describe('method policy', () => {
  it('refuses a method the policy does not name with PERMISSION_DENIED, even with a good token', async (t) => {
    const { keys, auth, client } = await scene(t, { methods: { [methodPaths.unary]: ['orders.read'] } });
    const { error } = await callTypes.bidi(client, { metadata: bearer(await keys.sign()) });
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(reasonOf(error), 'method_not_in_policy');
    assert.equal(error?.details, `method ${methodPaths.bidi} is not in the server's policy`);
    assert.deepEqual(auth.sightings, []);
  });

  it('answers UNAUTHENTICATED, not PERMISSION_DENIED, for a method outside the policy called without a token', async (t) => {
    const { client } = await scene(t, { methods: {} });
    assert.equal((await unary(client)).error?.code, grpc.status.UNAUTHENTICATED);
  });

  it('requires every listed scope, naming each one missing', async (t) => {
    const { keys, client } = await scene(t, {
      methods: { [methodPaths.unary]: ['orders.read', 'orders.write', 'orders.audit'] },
    });
    const { error } = await unary(client, { metadata: bearer(await keys.sign({ scope: 'orders.read' })) });
    assert.equal(error?.details, 'missing scopes orders.audit, orders.write');
    assert.deepEqual(error?.metadata.get('grpc-oauth2-scope'), ['orders.audit orders.write']);
  });

  it('accepts any one scope of an anyOf entry, and reads scp arrays as well as scope strings', async (t) => {
    const { keys, client } = await scene(t, {
      methods: { [methodPaths.unary]: { anyOf: ['orders.write', 'orders.admin'] } },
    });
    assert.equal(
      (await unary(client, { metadata: bearer(await keys.sign({ scope: undefined, scp: ['orders.admin'] })) })).error,
      undefined,
    );
    const { error } = await unary(client, { metadata: bearer(await keys.sign({ scope: 'orders.read' })) });
    assert.equal(error?.details, 'missing scope: needs one of orders.admin, orders.write');
  });

  it('lets an exact path win over its service wildcard', async (t) => {
    const { keys, client } = await scene(t, {
      methods: { [methodPaths.unary]: ['orders.admin'], '/test.v1.Echo/*': ['orders.read'] },
    });
    const token = await keys.sign({ scope: 'orders.read' });
    assert.equal(reasonOf((await unary(client, { metadata: bearer(token) })).error), 'missing_scope');
    assert.equal((await callTypes.bidi(client, { metadata: bearer(token) })).error, undefined);
  });

  it('lets a user-given public method through without a token', async (t) => {
    const { client, auth } = await scene(t, { publicMethods: [methodPaths.unary] });
    assert.equal((await unary(client)).error, undefined);
    assert.deepEqual(auth.sightings, [{ method: methodPaths.unary, where: 'entry', subject: undefined }]);
  });
});

describe('the documented policy', () => {
  it('accepts the policy of docs/server.md, and [] lets any valid token in', async (t) => {
    const methods = {
      '/orders.v1.Orders/GetOrder': ['orders.read'],
      '/orders.v1.Orders/PlaceOrder': { anyOf: ['orders.write', 'orders.admin'] },
      '/orders.v1.Orders/*': ['orders.read'],
      '/orders.v1.Admin/Ping': [],
    };
    assert.ok(createServerAuthInterceptor({ ...base, methods }));
    const { keys, client } = await scene(t, { methods: { [methodPaths.unary]: [] } });
    assert.equal((await unary(client, { metadata: bearer(await keys.sign({ scope: undefined })) })).error, undefined);
  });
});

describe('the authorize rule', () => {
  it('refuses with PERMISSION_DENIED when it returns false, and sees the claims and method', async (t) => {
    const seen: string[] = [];
    const { keys, client, auth } = await scene(t, {
      authorize: ({ claims, method }) => {
        seen.push(`${String(claims.sub)} ${method}`);
        return Promise.resolve(claims.tenant === 'acme');
      },
    });
    assert.equal((await unary(client, { metadata: bearer(await keys.sign({ tenant: 'acme' })) })).error, undefined);
    const { error } = await unary(client, { metadata: bearer(await keys.sign({ tenant: 'umbrella' })) });
    assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(reasonOf(error), 'authorize_denied');
    assert.deepEqual(seen, [`orders-svc ${methodPaths.unary}`, `orders-svc ${methodPaths.unary}`]);
    assert.equal(auth.sightings.length, 1);
  });

  for (const [how, authorize] of [
    [
      'throws',
      () => {
        throw new Error('db down: secret-ish text');
      },
    ],
    ['rejects', () => Promise.reject(new TypeError('boom'))],
    ['returns something other than a boolean', () => 'yes' as unknown as boolean],
  ] as const) {
    it(`ends the call INTERNAL when the rule ${how}, without running the handler or saying what it threw`, async (t) => {
      const { keys, client, auth } = await scene(t, { authorize });
      const { error } = await unary(client, { metadata: bearer(await keys.sign()) });
      assert.equal(error?.code, grpc.status.INTERNAL);
      assert.equal(reasonOf(error), 'authorize_failed');
      assert.equal(error?.details, "the server's authorize rule failed");
      assert.deepEqual(auth.sightings, []);
      assert.equal(
        (await unary(client, { metadata: bearer(await keys.sign()) })).error?.code,
        grpc.status.INTERNAL,
        'the server still answers',
      );
    });
  }
});

describe('onDecision', () => {
  it('reports each decision with method, outcome, code, reason, verified subject and issuer, never the token', async (t) => {
    const decisions: AuthDecision[] = [];
    const { keys, client } = await scene(t, { onDecision: (decision) => decisions.push(decision) });
    const token = await keys.sign({ scope: 'inventory.read' });
    await unary(client, { metadata: bearer(await keys.sign()) });
    await unary(client, { metadata: bearer(token) });
    await unary(client);
    assert.deepEqual(decisions, [
      {
        method: methodPaths.unary,
        allowed: true,
        code: grpc.status.OK,
        reason: 'granted',
        details: '',
        internalDetails: '',
        subject: 'orders-svc',
        issuer: keys.issuer,
        peer: undefined,
      },
      {
        method: methodPaths.unary,
        allowed: false,
        code: grpc.status.PERMISSION_DENIED,
        reason: 'missing_scope',
        details: 'missing scope orders.read',
        internalDetails: 'missing scope orders.read',
        subject: 'orders-svc',
        issuer: keys.issuer,
        peer: undefined,
      },
      {
        method: methodPaths.unary,
        allowed: false,
        code: grpc.status.UNAUTHENTICATED,
        reason: 'missing_token',
        details: 'no bearer token: the call has no authorization metadata',
        internalDetails: 'no bearer token: the call has no authorization metadata',
        subject: undefined,
        issuer: undefined,
        peer: undefined,
      },
    ]);
    assert.ok(!JSON.stringify(decisions).includes(token.split('.')[2]!));
  });

  it('keeps calls working when the hook throws or rejects', async (t) => {
    let calls = 0;
    const { keys, client } = await scene(t, {
      onDecision: () => {
        calls++;
        if (calls % 2 === 0) return Promise.reject(new Error('audit sink down')) as unknown as void;
        throw new Error('audit sink down');
      },
    });
    for (let i = 0; i < 4; i++)
      assert.equal((await unary(client, { metadata: bearer(await keys.sign()) })).error, undefined);
    assert.equal(calls, 4);
  });
});

describe('checkPolicy', () => {
  const services = [echoService, healthService];

  it('throws for a misspelled method path, suggesting the real one', () => {
    const auth = createServerAuthInterceptor({ ...base, methods: { '/test.v1.Echo/Unray': ['orders.read'] } });
    throwsConfig(
      () => checkPolicy(auth, services),
      /methods path "\/test.v1.Echo\/Unray" names no method; did you mean "\/test.v1.Echo\/Unary"\?/,
    );
  });

  it('throws for a wildcard of a service that is not served, and for a misspelled public method', () => {
    const auth = createServerAuthInterceptor({
      ...base,
      methods: { '/test.v1.Eco/*': ['orders.read'] },
      publicMethods: ['/grpc.health.v1.Health/Chek'],
    });
    throwsConfig(
      () => checkPolicy(auth, services),
      /wildcard "\/test.v1.Eco\/\*" names no service; did you mean "\/test.v1.Echo\/\*"\?.*publicMethods path "\/grpc.health.v1.Health\/Chek"/,
    );
  });

  it('passes a policy that names only real methods, with the default health entries left unchecked', () => {
    checkPolicy(createServerAuthInterceptor(base), [echoService]);
  });

  it('with requireAll, throws for each method the policy forgets', () => {
    const auth = createServerAuthInterceptor({ ...base, methods: { [methodPaths.unary]: ['orders.read'] } });
    checkPolicy(auth, services);
    throwsConfig(
      () => checkPolicy(auth, services, { requireAll: true }),
      /method "\/test.v1.Echo\/ClientStream" is in no entry.*"\/test.v1.Echo\/Bidi"/,
    );
  });

  it('accepts client constructors, and refuses what is not our interceptor or a bad option', () => {
    const Client = grpc.makeGenericClientConstructor(echoService, 'Echo');
    checkPolicy(createServerAuthInterceptor(base), [Client], { requireAll: false });
    throwsConfig(() => checkPolicy(() => undefined, [echoService]), /made by createServerAuthInterceptor/);
    throwsConfig(
      () => checkPolicy(createServerAuthInterceptor(base), [echoService], { requireALL: true } as never),
      /did you mean "requireAll"/,
    );
    throwsConfig(
      () => checkPolicy(createServerAuthInterceptor(base), [echoService], { requireAll: 'true' as never }),
      /requireAll must be true or false/,
    );
  });
});

describe('strict options', () => {
  it('names an unknown option and the likely intended one, at every level', () => {
    throwsConfig(
      () => createServerAuthInterceptor({ ...base, audiance: audience } as never),
      /unknown createServerAuthInterceptor option "audiance"; did you mean "audience"\?/,
    );
    throwsConfig(
      () => createServerAuthInterceptor({ ...base, methods: { [methodPaths.unary]: { anyof: ['a'] } as never } }),
      /option "anyof"; did you mean "anyOf"\?/,
    );
  });

  it('refuses booleans given as strings, a missing audience, none and HMAC algorithms, and malformed paths', () => {
    throwsConfig(
      () => createServerAuthInterceptor({ ...base, endStreamsAtExpiry: 'false' as never }),
      /endStreamsAtExpiry must be true or false/,
    );
    throwsConfig(() => createServerAuthInterceptor({ ...base, audience: undefined }), /audience is required/);
    throwsConfig(() => createServerAuthInterceptor({ ...base, audience: [] }), /audience is required/);
    for (const alg of ['none', 'HS256'])
      throwsConfig(() => createServerAuthInterceptor({ ...base, algorithms: [alg] }), /never none or HS\*/);
    throwsConfig(
      () => createServerAuthInterceptor({ ...base, methods: { 'test.v1.Echo/Unary': [] } }),
      /is not a full method path/,
    );
    throwsConfig(
      () => createServerAuthInterceptor({ ...base, methods: { [methodPaths.unary]: ['orders read'] } }),
      /without spaces/,
    );
    throwsConfig(
      () =>
        createServerAuthInterceptor({
          ...base,
          publicMethods: [methodPaths.unary],
          methods: { [methodPaths.unary]: [] },
        }),
      /named more than once/,
    );
    throwsConfig(
      () => createServerAuthInterceptor({ ...base, clockToleranceSec: -1 }),
      /clockToleranceSec must be a number from 0/,
    );
    throwsConfig(
      () => createServerAuthInterceptor({ ...base, onDecision: 'log' as never }),
      /onDecision must be a function/,
    );
    throwsConfig(
      () => createServerAuthInterceptor({ ...base, clock: {} as never }),
      /createServerAuthInterceptor: clock must have now\(\) and setTimeout\(\), not object/,
    );
    // Not given, as for every other option: the system clock.
    assert.equal(typeof createServerAuthInterceptor({ ...base, clock: null as never }), 'function');
  });
});
