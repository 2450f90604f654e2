import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthConfigError, TokenManager } from '../../src/index.js';
import {
  AuthConfigError as ConnectAuthConfigError,
  createConnectAuthInterceptor,
  type ConnectAuthInterceptorOptions,
} from '../../src/connect/index.js';

const tokens = new TokenManager({
  tokenEndpoint: 'https://auth.example.test/token',
  clientId: 'c',
  clientSecret: 's',
  scopes: ['a'],
});
test.after(() => tokens.close());

function configError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof AuthConfigError && error.code === 'invalid_option' && pattern.test(error.message);
}

test('./connect exports the same AuthConfigError class as the main entry point', () => {
  assert.equal(ConnectAuthConfigError, AuthConfigError);
});

test('an unknown option name is an AuthConfigError at construction that suggests the likely one', () => {
  const options = { scopeFor: () => undefined } as unknown as ConnectAuthInterceptorOptions;
  assert.throws(
    () => createConnectAuthInterceptor(tokens, options),
    configError(/unknown createConnectAuthInterceptor option "scopeFor"; did you mean "scopesFor"\?/),
  );
});

test("the grpc-js interceptor's channelCredentials option is unknown here", () => {
  const options = { channelCredentials: {} } as unknown as ConnectAuthInterceptorOptions;
  assert.throws(
    () => createConnectAuthInterceptor(tokens, options),
    configError(/unknown createConnectAuthInterceptor option "channelCredentials"/),
  );
});

test("allowInsecureChannel: 'false' from an environment variable is an AuthConfigError, not true", () => {
  const options = { allowInsecureChannel: 'false' } as unknown as ConnectAuthInterceptorOptions;
  assert.throws(
    () => createConnectAuthInterceptor(tokens, options),
    configError(/allowInsecureChannel must be true or false, not a string/),
  );
});

test('retryOnUnauthenticated that is neither a boolean nor a function is an AuthConfigError', () => {
  const options = { retryOnUnauthenticated: 1 } as unknown as ConnectAuthInterceptorOptions;
  assert.throws(
    () => createConnectAuthInterceptor(tokens, options),
    configError(/retryOnUnauthenticated must be true, false or a function/),
  );
});

test('a scopesFor that is not a function is an AuthConfigError', () => {
  const options = { scopesFor: ['orders.read'] } as unknown as ConnectAuthInterceptorOptions;
  assert.throws(
    () => createConnectAuthInterceptor(tokens, options),
    configError(/scopesFor must be a function, not an array/),
  );
});

test('options that are not an object, and tokens that are not a TokenProvider, are AuthConfigErrors', () => {
  assert.throws(
    () => createConnectAuthInterceptor(tokens, 'strict' as unknown as ConnectAuthInterceptorOptions),
    configError(/options must be an object/),
  );
  assert.throws(
    () => createConnectAuthInterceptor({} as unknown as TokenManager),
    configError(/tokens must be a TokenProvider/),
  );
});

test('no options at all is fine', () => {
  assert.equal(typeof createConnectAuthInterceptor(tokens), 'function');
});
