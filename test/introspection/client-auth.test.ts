import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { decodeJwt, decodeProtectedHeader, exportJWK } from 'jose';
import { Denial } from '../../src/server/denial.js';
import { IntrospectionUnavailableError } from '../../src/server/introspection/introspection-client.js';
import type { Verified } from '../../src/server/verifier.js';
import { clientId, clientSecret, introspect, introspectionFixture, startSec } from './fixture.js';

function accepted(verified: Verified): void {
  assert.ok(
    !(verified instanceof Denial),
    `expected claims, got ${(verified as Denial).reason}: ${(verified as Denial).internalDetails}`,
  );
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'introspection-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('introspection client authentication', () => {
  const secretMethods = [
    ['client_secret_basic', 'by default', {}],
    ['client_secret_post', 'when asked', { clientAuthMethod: 'client_secret_post' }],
  ] as const;
  for (const [method, when, options] of secretMethods) {
    it(`authenticates with ${method} ${when}`, async (t) => {
      const { endpoint, make, issue } = await introspectionFixture(t);
      accepted(await introspect(make(options), issue()));
      const [received] = endpoint.received;
      assert.deepEqual([received?.authMethod, received?.clientId, received?.secret], [method, clientId, clientSecret]);
    });
  }

  it('reads clientSecretFile, and reads it again when the endpoint refuses the secret after a rotation', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const file = join(await tempDir(t), 'secret');
    await writeFile(file, `${clientSecret}\n`);
    const introspector = make({ clientSecret: undefined, clientSecretFile: file });
    accepted(await introspect(introspector, issue()));
    const rotated = 'rotated-Secret_4567';
    endpoint.client = { clientId, secret: rotated };
    await writeFile(file, rotated);
    accepted(await introspect(introspector, issue()));
    assert.deepEqual(
      endpoint.received.map((r) => [r.secret, r.authenticated]),
      [
        [clientSecret, true],
        [clientSecret, false],
        [rotated, true],
      ],
    );
  });

  it('authenticates with private_key_jwt: an assertion by the client, for the issuer, signed by its key', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    endpoint.client = { clientId, publicKey };
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    accepted(await introspect(make({ clientSecret: undefined, privateKey: pem, privateKeyId: 'key-1' }), issue()));
    const [received] = endpoint.received;
    assert.equal(received?.authMethod, 'private_key_jwt');
    assert.equal(received?.authenticated, true);
    assert.equal(received?.secret, undefined);
    const claims = decodeJwt(received.assertion!);
    assert.equal(claims.iss, clientId);
    assert.equal(claims.sub, clientId);
    assert.equal(claims.aud, endpoint.issuer);
    assert.ok(Math.abs(claims.iat! - startSec) <= 2, 'dated by the injected clock');
    assert.deepEqual(decodeProtectedHeader(received.assertion!), { alg: 'ES256', kid: 'key-1' });
  });

  it('authenticates with a privateKeyFile holding a JWK', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    endpoint.client = { clientId, publicKey };
    const file = join(await tempDir(t), 'key.json');
    await writeFile(file, JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'jwk-kid' }));
    accepted(await introspect(make({ clientSecret: undefined, privateKeyFile: file }), issue()));
    const [received] = endpoint.received;
    assert.equal(received?.authenticated, true);
    assert.deepEqual(decodeProtectedHeader(received.assertion!), { alg: 'RS256', kid: 'jwk-kid' });
  });
});

describe('introspection endpoint discovery and ready()', () => {
  it("finds the endpoint in the issuer's discovery document when none is given", async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    const introspector = make({ endpoint: undefined });
    await introspector.ready();
    accepted(await introspect(introspector, issue()));
    assert.equal(endpoint.received.length, 1);
  });

  it('refuses UNAVAILABLE while the issuer has no discovery document, and ready() rejects naming the issuer', async (t) => {
    const { endpoint, make, issue } = await introspectionFixture(t);
    endpoint.discoverable = false;
    const introspector = make({ endpoint: undefined });
    const refused = await introspect(introspector, issue());
    assert.ok(refused instanceof Denial);
    assert.equal(refused.reason, 'introspection_unavailable');
    assert.match(refused.internalDetails, /discovery of the introspection endpoint failed: .*answered HTTP 404/);
    await assert.rejects(introspector.ready(), (err: unknown) => {
      assert.ok(err instanceof IntrospectionUnavailableError);
      assert.ok(
        err.message.startsWith(`issuer "${endpoint.issuer}": discovery of the introspection endpoint failed`),
        err.message,
      );
      return true;
    });
    endpoint.discoverable = true;
    await introspector.ready();
    accepted(await introspect(introspector, issue()));
  });

  it('ready() rejects naming the issuer and the secret file that cannot be read', async (t) => {
    const { endpoint, make } = await introspectionFixture(t);
    const file = join(await tempDir(t), 'missing');
    const introspector = make({ clientSecret: undefined, clientSecretFile: file });
    await assert.rejects(introspector.ready(), (err: unknown) => {
      assert.ok(err instanceof IntrospectionUnavailableError);
      assert.equal(
        err.message,
        `issuer "${endpoint.issuer}": the introspection client's credential is unusable: test: issuers[0].introspection.clientSecretFile ${file} could not be read (ENOENT)`,
      );
      return true;
    });
    assert.equal(endpoint.received.length, 0);
  });

  it('ready() rejects for a private key that cannot be imported, without quoting it', async (t) => {
    const { make } = await introspectionFixture(t);
    // A key generated now whose body is cut short: PEM armour around bytes that are no key.
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const lines = pem.trim().split('\n');
    const body = (lines[1] ?? '').slice(0, 20);
    const broken = `${lines[0]}\n${body}\n${lines.at(-1)}`;
    const introspector = make({ clientSecret: undefined, privateKey: broken });
    await assert.rejects(introspector.ready(), (err: unknown) => {
      assert.ok(err instanceof IntrospectionUnavailableError);
      assert.match(err.message, /privateKey could not be imported as a private key/);
      assert.ok(!err.message.includes(body));
      return true;
    });
  });
});
