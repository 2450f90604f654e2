import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthConfigError,
  createAuthInterceptor,
  createCallCredentials,
  createChannelCredentials,
  InsecureChannelError,
} from '../../src/index.js';
import type { TokenProvider } from '../../src/index.js';

const tokens: TokenProvider = { getToken: () => Promise.reject(new Error('unused')), invalidate: () => undefined };
const tls = (): grpc.ChannelCredentials => grpc.credentials.createSsl();

/** An AuthConfigError (a TypeError) with code invalid_option whose message matches `pattern`. */
function invalidOption(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof AuthConfigError, `not an AuthConfigError: ${String(err)}`);
    assert.ok(err instanceof TypeError);
    assert.equal(err.code, 'invalid_option');
    assert.match(err.message, pattern);
    return true;
  };
}

test('a misspelled interceptor option is refused with the name it most likely meant', () => {
  assert.throws(
    () => createAuthInterceptor(tokens, { channelCredentials: tls(), scopeFor: () => undefined } as never),
    invalidOption(/"scopeFor".*did you mean "scopesFor"/),
  );
});

test('a misspelled createChannelCredentials option is refused with the name it most likely meant', () => {
  assert.throws(
    () => createChannelCredentials(tls(), tokens, { scope: ['orders.read'] } as never),
    invalidOption(/"scope".*did you mean "scopes"/),
  );
});

test('a misspelled createCallCredentials option is refused with the name it most likely meant', () => {
  assert.throws(
    () => createCallCredentials(tokens, { channelCredentials: tls(), scope: ['orders.read'] } as never),
    invalidOption(/"scope".*did you mean "scopes"/),
  );
});

test("allowInsecureChannel: 'false' from an environment variable is refused, not taken as true", () => {
  const insecure = grpc.credentials.createInsecure();
  assert.throws(
    () => createAuthInterceptor(tokens, { channelCredentials: insecure, allowInsecureChannel: 'false' as never }),
    invalidOption(/allowInsecureChannel must be true or false/),
  );
  assert.throws(
    () => createCallCredentials(tokens, { channelCredentials: insecure, allowInsecureChannel: 'false' as never }),
    invalidOption(/allowInsecureChannel must be true or false/),
  );
});

test("retryOnUnauthenticated: 'no' is refused, naming the option", () => {
  assert.throws(
    () => createAuthInterceptor(tokens, { channelCredentials: tls(), retryOnUnauthenticated: 'no' as never }),
    invalidOption(/retryOnUnauthenticated must be true, false or a function/),
  );
});

test('scopesFor that is not a function is refused at construction', () => {
  assert.throws(
    () => createAuthInterceptor(tokens, { channelCredentials: tls(), scopesFor: ['orders.read'] as never }),
    invalidOption(/scopesFor must be a function/),
  );
});

test('scopes that are not scope strings are refused with the gRPC side error, not a token error', () => {
  assert.throws(
    () => createCallCredentials(tokens, { channelCredentials: tls(), scopes: 'orders.read' as never }),
    invalidOption(/scopes must be an array/),
  );
  assert.throws(
    () => createChannelCredentials(tls(), tokens, { scopes: ['orders read'] }),
    invalidOption(/scopes must hold non-empty scope strings/),
  );
  assert.doesNotThrow(() => createCallCredentials(tokens, { channelCredentials: tls(), scopes: ['orders.read'] }));
});

test('createCallCredentials requires the channel credentials it will be used with', () => {
  assert.throws(
    () => createCallCredentials(tokens, {} as never),
    invalidOption(/channelCredentials must be grpc-js ChannelCredentials/),
  );
  assert.throws(
    () => (createCallCredentials as (tokens: TokenProvider) => unknown)(tokens),
    invalidOption(/channelCredentials must be grpc-js ChannelCredentials/),
  );
});

test('a tokens argument that is not a TokenProvider is refused by every entry point', () => {
  const pattern = /tokens must be a TokenProvider/;
  assert.throws(() => createAuthInterceptor({} as never, { channelCredentials: tls() }), invalidOption(pattern));
  assert.throws(() => createChannelCredentials(tls(), {} as never), invalidOption(pattern));
  assert.throws(() => createCallCredentials({} as never, { channelCredentials: tls() }), invalidOption(pattern));
});

test('InsecureChannelError is the same family of error, with its own code', () => {
  assert.throws(
    () => createChannelCredentials(grpc.credentials.createInsecure(), tokens),
    (err: unknown) =>
      err instanceof InsecureChannelError && err instanceof AuthConfigError && err.code === 'insecure_channel',
  );
});
