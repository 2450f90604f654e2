import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HandlerContext } from '@connectrpc/connect';
import { createConnectServerAuthInterceptor, getConnectAuthClaims } from '../../src/connect/index.js';
import { invalidOption } from '../helpers/config-error.js';

const base = {
  issuer: 'https://auth.example.test',
  audience: 'https://orders.example.test',
  methods: { '/orders.v1.Orders/*': ['orders.read'] },
};
type Options = Parameters<typeof createConnectServerAuthInterceptor>[0];
const make = (options: unknown) => () => createConnectServerAuthInterceptor(options as Options);

describe('createConnectServerAuthInterceptor options', () => {
  it('refuses an unknown option name with a suggestion, naming this factory', () => {
    assert.throws(
      make({ ...base, endStreamAtExpiry: false }),
      invalidOption(
        'unknown createConnectServerAuthInterceptor option "endStreamAtExpiry"; did you mean "endStreamsAtExpiry"?',
      ),
    );
  });

  it('refuses no options, a boolean given as a string and a bad issuers entry, naming the option', () => {
    assert.throws(make(undefined), invalidOption(/^createConnectServerAuthInterceptor needs options/));
    assert.throws(
      make({ ...base, endStreamsAtExpiry: 'false' }),
      invalidOption(/^createConnectServerAuthInterceptor: endStreamsAtExpiry must be true or false/),
    );
    assert.throws(
      make({ methods: base.methods, issuers: [{ issuer: base.issuer }] }),
      invalidOption(/createConnectServerAuthInterceptor: issuers\[0\]\.audience is required/),
    );
  });

  it('refuses a bad policy naming this factory, not the grpc-js one', () => {
    assert.throws(
      make({ ...base, methods: { 'orders.v1.Orders/Get': ['orders.read'] } }),
      invalidOption(
        /^createConnectServerAuthInterceptor: methods path "orders\.v1\.Orders\/Get" is not a full method path/,
      ),
    );
    assert.throws(
      make({ ...base, methods: { '/orders.v1.Orders/Get': { anyof: ['orders.read'] } } }),
      invalidOption(
        /createConnectServerAuthInterceptor: methods\["\/orders\.v1\.Orders\/Get"\] option "anyof"; did you mean "anyOf"\?/,
      ),
    );
  });

  it('returns an interceptor with ready()', () => {
    const auth = createConnectServerAuthInterceptor(base);
    assert.equal(typeof auth, 'function');
    assert.equal(typeof auth.ready, 'function');
  });
});

describe('getConnectAuthClaims', () => {
  it('is undefined for anything that is not a handler context of an authenticated call', () => {
    for (const context of [undefined, null, {}, { values: {} }, { values: { get: 1 } }])
      assert.equal(getConnectAuthClaims(context as unknown as HandlerContext), undefined);
  });
});
