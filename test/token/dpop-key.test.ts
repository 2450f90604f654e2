// DpopKey: the proofs it signs (every header and claim, verified with the embedded key), its
// thumbprint, the keys it takes, and the keys it refuses with an AuthConfigError naming the option.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, createSecretKey, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  exportJWK,
  generateKeyPair,
  jwtVerify,
} from 'jose';
import { AuthConfigError } from '../../src/common/config-error.js';
import { DpopKey } from '../../src/token/dpop/dpop-key.js';
import { ManualClock } from '../../src/testing/index.js';

const htu = 'https://api.example.test/orders.v1.Orders/Get';

describe('DpopKey', () => {
  it('signs a proof with typ dpop+jwt, the public jwk, jti, htm, htu, iat from the clock, ath and nonce', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1, 12, 0, 0, 900));
    const key = await DpopKey.generate(clock);
    const proof = await key.proof({ htm: 'POST', htu, accessToken: 'token-value', nonce: 'n-1' });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: ['ES256'],
      currentDate: new Date(clock.now()),
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.typ, 'dpop+jwt');
    assert.deepEqual(Object.keys(protectedHeader.jwk ?? {}).sort(), ['crv', 'kty', 'x', 'y']);
    assert.equal(await calculateJwkThumbprint(protectedHeader.jwk!), key.thumbprint);
    assert.equal(payload.htm, 'POST');
    assert.equal(payload.htu, htu);
    assert.equal(payload.iat, Date.UTC(2030, 0, 1, 12, 0, 0) / 1000);
    assert.equal(payload.ath, createHash('sha256').update('token-value').digest('base64url'));
    assert.equal(payload.nonce, 'n-1');
    assert.match(String(payload.jti), /^[\w-]{22}$/);
    assert.deepEqual(Object.keys(payload).sort(), ['ath', 'htm', 'htu', 'iat', 'jti', 'nonce']);
  });

  it('leaves out ath and nonce when not given, and uses a new jti every time', async () => {
    const key = await DpopKey.generate();
    const [a, b] = await Promise.all([key.proof({ htm: 'POST', htu }), key.proof({ htm: 'POST', htu })]);
    const first = (await jwtVerify(a, EmbeddedJWK)).payload;
    const second = (await jwtVerify(b, EmbeddedJWK)).payload;
    assert.deepEqual(Object.keys(first).sort(), ['htm', 'htu', 'iat', 'jti']);
    assert.notEqual(first.jti, second.jti);
  });

  it('generates a P-256 key whose private half is not extractable, and never shows it', async () => {
    const key = await DpopKey.generate();
    assert.equal(key.keyPair.privateKey.extractable, false);
    assert.equal(key.keyPair.publicKey.extractable, true);
    assert.match(key.thumbprint, /^[\w-]{43}$/);
    for (const text of [inspect(key, { showHidden: true, depth: 5 }), JSON.stringify(key), String(key)]) {
      assert.doesNotMatch(text, /"d"|privateKey|CryptoKey/);
      assert.ok(text.includes(key.thumbprint));
    }
  });

  it('takes a P-256 JWK, an Ed25519 PEM, a KeyObject and a non-extractable CryptoKey', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    const webKey = await generateKeyPair('ES256', { extractable: false });
    const inputs = [
      ec.privateKey.export({ format: 'jwk' }),
      ed.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      ec.privateKey,
      webKey.privateKey,
    ] as const;
    const expected = [
      await calculateJwkThumbprint(ec.publicKey.export({ format: 'jwk' })),
      await calculateJwkThumbprint(ed.publicKey.export({ format: 'jwk' })),
      await calculateJwkThumbprint(ec.publicKey.export({ format: 'jwk' })),
      await calculateJwkThumbprint(await exportJWK(webKey.publicKey)),
    ];
    for (const [index, input] of inputs.entries()) {
      const key = await DpopKey.from(input);
      assert.equal(key.thumbprint, expected[index]);
      const proof = await key.proof({ htm: 'POST', htu });
      assert.equal(decodeProtectedHeader(proof).alg, index === 1 ? 'EdDSA' : 'ES256');
      await jwtVerify(proof, EmbeddedJWK);
    }
  });

  it('refuses RSA, P-384, symmetric and public keys with an AuthConfigError naming the option, not the key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const secret = randomBytes(32);
    const cases: [unknown, RegExp][] = [
      [rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }), /P-256 \(ES256\) or Ed25519/],
      [rsa.privateKey.export({ format: 'jwk' }), /P-256 \(ES256\) or Ed25519/],
      [p384.privateKey, /P-256 \(ES256\) or Ed25519/],
      [createSecretKey(secret), /private key, not a secret one/],
      [{ kty: 'oct', k: secret.toString('base64url') }, /asymmetric private key, not a symmetric one/],
      [ec.publicKey.export({ format: 'jwk' }), /private key, not a public JWK/],
      [ec.publicKey.export({ format: 'pem', type: 'spki' }), /private key, not a public one/],
      [ec.publicKey, /private key, not a public one/],
      ['not a key', /PKCS#8 PEM private key, a private JWK/],
      [42, /PKCS#8 PEM private key, a private JWK/],
    ];
    for (const [input, message] of cases) {
      await assert.rejects(DpopKey.from(input as never), (err: Error) => {
        assert.ok(err instanceof AuthConfigError, inspect(input));
        assert.match(err.message, /^dpop\.privateKey /);
        assert.match(err.message, message);
        assert.ok(!err.message.includes(secret.toString('base64url')));
        return true;
      });
    }
  });
});
