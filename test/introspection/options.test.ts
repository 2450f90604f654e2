import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveIntrospectionOptions } from '../../src/server/introspection/options.js';
import { invalidOption } from '../helpers/config-error.js';

const where = 'createServerAuthInterceptor: issuers[1]';
const secret = 'Options-Secret_value.0123';
const base = { endpoint: 'https://idp.example.com/introspect', clientId: 'orders-api', clientSecret: secret };

/** Asserts `options` are refused with `message`, which never holds the secret. */
function refused(options: unknown, message: RegExp | string, allowInsecureRequests = false): void {
  assert.throws(
    () => resolveIntrospectionOptions(options, where, allowInsecureRequests),
    (err: unknown) => {
      invalidOption(message)(err);
      assert.ok(!(err as Error).message.includes(secret), 'the secret is not quoted');
      return true;
    },
  );
}

describe('introspection options', () => {
  it('fills in the defaults', () => {
    const resolved = resolveIntrospectionOptions(base, where, false);
    assert.equal(resolved.endpoint, base.endpoint);
    assert.equal(resolved.client.clientId, 'orders-api');
    assert.equal(resolved.client.clientAuthMethod, 'client_secret_basic');
    assert.deepEqual(resolved.client.credential, { kind: 'secret', value: secret });
    assert.equal(resolved.cacheMaxSec, 300);
    assert.equal(resolved.inactiveCacheSec, 10);
    assert.equal(resolved.tokenPrefixes, undefined);
    assert.equal(resolved.maxConcurrentRequests, 64);
  });

  it('takes a private key with private_key_jwt, and no endpoint (discovery)', () => {
    const resolved = resolveIntrospectionOptions(
      {
        clientId: 'orders-api',
        privateKeyFile: '/keys/introspect.pem',
        privateKeyId: 'k1',
        tokenPrefixes: ['ory_at_'],
      },
      where,
      false,
    );
    assert.equal(resolved.endpoint, undefined);
    assert.equal(resolved.client.clientAuthMethod, 'private_key_jwt');
    assert.equal(resolved.client.credential.kind, 'key-file');
    assert.deepEqual(resolved.tokenPrefixes, ['ory_at_']);
  });

  it('refuses an unknown name, suggesting the likely one', () => {
    refused(
      { ...base, cacheMaxSecs: 60 },
      `unknown ${where}.introspection option "cacheMaxSecs"; did you mean "cacheMaxSec"?`,
    );
    refused(
      { ...base, clientSecrets: secret },
      /^unknown .*introspection option "clientSecrets"; did you mean "clientSecret"\?$/,
    );
  });

  it('refuses options that are not an object', () => {
    refused('orders-api', `${where}.introspection must be an object`);
    refused([base], `${where}.introspection must be an object`);
    refused(null, `${where}.introspection must be an object`);
  });

  it('refuses a client without credentials, or with two', () => {
    refused(
      { clientId: 'orders-api' },
      `${where}.introspection needs one credential: clientSecret, clientSecretFile, privateKey or privateKeyFile`,
    );
    refused(
      { ...base, clientSecretFile: '/secrets/introspect' },
      `${where}.introspection: give only one credential, not clientSecret and clientSecretFile`,
    );
  });

  it('refuses a missing clientId, an empty secret, and an auth method that does not fit the credential', () => {
    refused({ clientSecret: secret }, `${where}.introspection.clientId must be a non-empty string; got undefined`);
    refused({ ...base, clientSecret: '' }, `${where}.introspection.clientSecret must be a non-empty string`);
    refused(
      { ...base, clientAuthMethod: 'private_key_jwt' },
      `${where}.introspection.clientAuthMethod private_key_jwt needs ${where}.introspection.privateKey or privateKeyFile`,
    );
    refused({ ...base, clientAuthMethod: 'client_secret_jwt' }, /introspection\.clientAuthMethod must be one of/);
    refused(
      { ...base, privateKeyId: 'k1' },
      `${where}.introspection.privateKeyId applies only with privateKey or privateKeyFile`,
    );
  });

  it('refuses an http: endpoint without allowInsecureRequests, and takes it with', () => {
    const http = { ...base, endpoint: 'http://127.0.0.1:8080/introspect' };
    refused(
      http,
      /^createServerAuthInterceptor: issuers\[1\]\.introspection\.endpoint is http:\/\/; credentials would cross/,
    );
    assert.equal(resolveIntrospectionOptions(http, where, true).endpoint, http.endpoint);
    refused({ ...base, endpoint: 'not a url' }, `${where}.introspection.endpoint is not a valid URL`);
  });

  it('refuses numbers out of range and bad token prefixes', () => {
    refused({ ...base, cacheMaxSec: -1 }, `${where}.introspection.cacheMaxSec must be a number from 0 to 86400`);
    refused(
      { ...base, inactiveCacheSec: '10' },
      `${where}.introspection.inactiveCacheSec must be a number from 0 to 3600`,
    );
    refused(
      { ...base, maxConcurrentRequests: 0 },
      `${where}.introspection.maxConcurrentRequests must be a whole number from 1 to 10000`,
    );
    refused(
      { ...base, tokenPrefixes: [] },
      `${where}.introspection.tokenPrefixes must be a non-empty array of strings`,
    );
    refused({ ...base, tokenPrefixes: [''] }, /introspection\.tokenPrefixes must be a non-empty string/);
  });
});
