// One misconfiguration error for the whole package: every entry point's constructors and factories
// throw the same AuthConfigError class for a misspelt option name (with the likely one) and for a
// boolean option given anything but true or false.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createClient } from 'redis';
import { AuthConfigError, createAuthInterceptor, TokenManager, type TokenProvider } from '../../src/index.js';
import { AuthConfigError as ConnectAuthConfigError, createConnectAuthInterceptor } from '../../src/connect/index.js';
import { AuthConfigError as RedisAuthConfigError, createRedisTokenCache } from '../../src/redis/index.js';
import { AuthConfigError as ServerAuthConfigError, createServerAuthInterceptor } from '../../src/server/index.js';
import {
  AuthConfigError as TestingAuthConfigError,
  createTestCertificates,
  ManualClock,
  MockTokenServer,
  MockWorkloadIssuer,
} from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';

/** Options as a JavaScript caller or a config file may pass them: unchecked by the compiler. */
function loose<T>(value: Record<string, unknown>): T {
  return value as T;
}

const tokens: TokenProvider = { getToken: () => Promise.reject(new Error('unused')), invalidate: () => undefined };
const client = { tokenEndpoint: 'https://auth.example.test/token', clientId: 'orders-svc', clientSecret: 's' };
const server = { issuer: 'https://auth.example.test', audience: 'orders', methods: {} };

it('every entry point exports the one AuthConfigError class of the main entry point', () => {
  assert.equal(ServerAuthConfigError, AuthConfigError);
  assert.equal(ConnectAuthConfigError, AuthConfigError);
  assert.equal(RedisAuthConfigError, AuthConfigError);
  assert.equal(TestingAuthConfigError, AuthConfigError);
});

describe('the main entry point (.)', () => {
  it('a misspelt TokenManager option is an AuthConfigError that suggests the likely one', () => {
    assert.throws(
      () => new TokenManager(loose({ ...client, scope: ['orders.read'] })),
      invalidOption('unknown TokenManager option "scope"; did you mean "scopes"?'),
    );
    assert.throws(
      () => new TokenManager(loose({ ...client, retry: { minTimeout: 10 } })),
      invalidOption('unknown retry option "minTimeout"; did you mean "minTimeoutMs"?'),
    );
  });

  it("allowInsecureRequests: 'false' from an environment variable is an AuthConfigError, not true", () => {
    assert.throws(
      () => new TokenManager(loose({ ...client, allowInsecureRequests: 'false' })),
      invalidOption('allowInsecureRequests must be true or false, not a string'),
    );
  });

  it('a misspelt or non-boolean createAuthInterceptor option is an AuthConfigError', () => {
    const channelCredentials = grpc.credentials.createSsl();
    assert.throws(
      () => createAuthInterceptor(tokens, loose({ channelCredentials, scopeFor: () => undefined })),
      invalidOption(/unknown createAuthInterceptor option "scopeFor"; did you mean "scopesFor"\?/),
    );
    assert.throws(
      () => createAuthInterceptor(tokens, loose({ channelCredentials, allowInsecureChannel: 'false' })),
      invalidOption(/allowInsecureChannel must be true or false, not a string/),
    );
  });
});

describe('./server', () => {
  it('a misspelt createServerAuthInterceptor option is an AuthConfigError that suggests the likely one', () => {
    assert.throws(
      () => createServerAuthInterceptor(loose({ ...server, audiance: 'orders' })),
      invalidOption(/unknown createServerAuthInterceptor option "audiance"; did you mean "audience"\?/),
    );
  });

  it("allowInsecureRequests: 'false' is an AuthConfigError, not true", () => {
    assert.throws(
      () => createServerAuthInterceptor(loose({ ...server, allowInsecureRequests: 'false' })),
      invalidOption(/allowInsecureRequests must be true or false, not a string/),
    );
  });
});

describe('./connect', () => {
  it('a misspelt or non-boolean createConnectAuthInterceptor option is an AuthConfigError', () => {
    assert.throws(
      () => createConnectAuthInterceptor(tokens, loose({ scopeFor: () => undefined })),
      invalidOption(/unknown createConnectAuthInterceptor option "scopeFor"; did you mean "scopesFor"\?/),
    );
    assert.throws(
      () => createConnectAuthInterceptor(tokens, loose({ allowInsecureChannel: 'false' })),
      invalidOption(/allowInsecureChannel must be true or false, not a string/),
    );
  });
});

describe('./redis', () => {
  // createRedisTokenCache has no boolean option; its options are checked before anything is sent,
  // so a client that never connects will do.
  it('a misspelt createRedisTokenCache option is an AuthConfigError that suggests the likely one', () => {
    assert.throws(
      () => createRedisTokenCache(createClient(), loose({ encryptionKey: Buffer.alloc(32, 7), keyPrefx: 'a:' })),
      invalidOption('unknown createRedisTokenCache option "keyPrefx"; did you mean "keyPrefix"?'),
    );
  });
});

describe('./testing', () => {
  it('a misspelt MockTokenServer option is an AuthConfigError that suggests the likely one', async () => {
    await assert.rejects(
      MockTokenServer.start(loose({ tokenLifetime: 60 })),
      invalidOption('unknown MockTokenServer option "tokenLifetime"; did you mean "tokenLifetimeSec"?'),
    );
  });

  it("omitExpiresIn: 'false' is an AuthConfigError, not true", async () => {
    await assert.rejects(
      MockTokenServer.start(loose({ omitExpiresIn: 'false' })),
      invalidOption('MockTokenServer option omitExpiresIn must be true or false, not a string'),
    );
  });

  it('a misspelt createTestCertificates or MockWorkloadIssuer option is an AuthConfigError', async () => {
    await assert.rejects(
      createTestCertificates(loose({ commonNme: 'orders.test' })),
      invalidOption('unknown createTestCertificates option "commonNme"; did you mean "commonName"?'),
    );
    await assert.rejects(
      MockWorkloadIssuer.create(loose({ isuer: 'https://cluster.test' })),
      invalidOption('unknown MockWorkloadIssuer option "isuer"; did you mean "issuer"?'),
    );
  });

  it('a ManualClock start that is not a number of milliseconds is an AuthConfigError', () => {
    assert.throws(
      () => new ManualClock(loose<{ v: number }>({ v: '2030-01-01T00:00:00Z' }).v),
      invalidOption('ManualClock: startMs must be a finite number of milliseconds since the epoch, not a string'),
    );
  });

  it('a MockWorkloadIssuer with an empty issuer or a clock without now() is an AuthConfigError', async () => {
    await assert.rejects(
      MockWorkloadIssuer.create({ issuer: '' }),
      invalidOption(/^MockWorkloadIssuer option issuer must be a non-empty string/),
    );
    await assert.rejects(
      MockWorkloadIssuer.create(loose({ clock: Date.now })),
      invalidOption('MockWorkloadIssuer option clock must have now()'),
    );
  });
});
