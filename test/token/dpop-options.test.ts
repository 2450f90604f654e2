// The TokenManager's `dpop` option is checked at construction: every bad member is an
// AuthConfigError naming it, and it is refused where a DPoP proof cannot be made or kept.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AuthConfigError, TokenManager, type TokenManagerOptions } from '../../src/index.js';

const base: TokenManagerOptions = {
  tokenEndpoint: 'https://auth.example.test/token',
  clientId: 'orders',
  clientSecret: 'dpop-options-secret',
};

function refused(options: TokenManagerOptions, message: RegExp): void {
  assert.throws(
    () => new TokenManager(options).close(),
    (err: Error) => err instanceof AuthConfigError && message.test(err.message),
  );
}

describe('TokenManager dpop option', () => {
  it('refuses unknown members, a non-boolean acceptBearer and keys that cannot sign DPoP proofs', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    refused(
      { ...base, dpop: { privatekey: 'x' } as never },
      /unknown dpop option "privatekey"; did you mean "privateKey"/,
    );
    refused({ ...base, dpop: { acceptBearer: 'true' as never } }, /dpop\.acceptBearer must be true or false/);
    refused({ ...base, dpop: 'yes' as never }, /dpop options must be an object/);
    refused({ ...base, dpop: { privateKey: rsa } }, /dpop\.privateKey must be a P-256 \(ES256\) or Ed25519/);
    refused({ ...base, dpop: { privateKey: ec.publicKey } }, /dpop\.privateKey must be a private key/);
    refused({ ...base, dpop: { privateKey: { kty: 'oct', k: 'c2VjcmV0' } } }, /not a symmetric one/);
  });

  it('is refused with tokenSource, sharedCache and a service-account key file', async (t) => {
    const tokenSource = { endpoint: 'static', fetchToken: () => Promise.reject(new Error('unused')) };
    refused({ tokenSource, dpop: {} }, /dpop cannot be used with tokenSource/);
    const sharedCache = { get: () => Promise.resolve(undefined), set: () => Promise.resolve() };
    refused({ ...base, sharedCache, dpop: {} }, /dpop cannot be used with sharedCache/);
    const dir = await mkdtemp(join(tmpdir(), 'dpop-sa-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'sa.json');
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const key = {
      type: 'service_account',
      private_key: pem,
      client_email: 'sa@example.test',
      token_uri: base.tokenEndpoint,
    };
    await writeFile(file, JSON.stringify(key));
    assert.throws(
      () => TokenManager.fromServiceAccountFile(file, { dpop: {} }),
      (err: Error) =>
        err instanceof AuthConfigError && /dpop is not supported with a service-account key file/.test(err.message),
    );
  });

  it('accepts {} and a P-256 key, and keeps bearer behaviour without it', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    new TokenManager({ ...base, dpop: {} }).close();
    new TokenManager({ ...base, dpop: { privateKey: ec, acceptBearer: true } }).close();
  });
});
