import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createPublicKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { SignJWT, base64url } from 'jose';
import { unary } from '../helpers/grpc-fixture.js';
import {
  audience,
  bearer,
  echoPolicy,
  newSigningKey,
  reasonOf,
  startAuthServer,
  startKeyServer,
  type KeyServer,
} from './fixture.js';

/** One hostile request: the metadata it sends and the status and reason it must get. */
interface Attack {
  readonly name: string;
  readonly metadata: grpc.Metadata;
  readonly code: grpc.status;
  /** `undefined` when HTTP/2 refuses it before the interceptor. */
  readonly reason: string | undefined;
}

const unauthenticated = grpc.status.UNAUTHENTICATED;
const now = (): number => Math.floor(Date.now() / 1000);
const segment = (value: unknown): string => base64url.encode(JSON.stringify(value));

function metadataOf(authorization: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', authorization);
  return metadata;
}

/**
 * A correctly signed RS256 JWS with any header, and any payload (an object, or JSON text such as
 * `1e400`, which no object serialises to), which jose's signers would refuse to make.
 */
async function signRaw(
  keys: KeyServer,
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
): Promise<string> {
  const input = `${segment(header)}.${typeof payload === 'string' ? base64url.encode(payload) : segment(payload)}`;
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', keys.key.privateKey, Buffer.from(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

async function corpus(keys: KeyServer): Promise<Attack[]> {
  const good = await keys.sign();
  const [header, payload, signature] = good.split('.') as [string, string, string];
  const middle = Math.floor(signature.length / 2);
  const flipped = `${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
  const impostor = await newSigningKey();
  // The classic confusion attack: HS256 keyed with the bytes of the server's own public key.
  const publicPem = createPublicKey({ key: keys.key.jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const claims = { iss: keys.issuer, aud: audience, sub: 'mallory', scope: 'orders.read', exp: now() + 3600 };
  const hmac = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: keys.key.jwk.kid! })
    .sign(Buffer.from(publicPem));
  const attack = (name: string, metadata: grpc.Metadata, reason: string, code = unauthenticated): Attack => ({
    name,
    metadata,
    code,
    reason,
  });
  // JSON.parse reads 1e400 as Infinity: a token that never expires, or has been valid forever.
  const nonFinite = await Promise.all(
    (
      [
        ['exp', '1e400'],
        ['nbf', '-1e400'],
        ['iat', '1e400'],
      ] as const
    ).map(async ([name, value]) => {
      const text = `${JSON.stringify({ ...claims, [name]: undefined }).slice(0, -1)},"${name}":${value}}`;
      const token = await signRaw(keys, { alg: 'RS256', kid: keys.key.jwk.kid }, text);
      return attack(`a non-finite ${name} (${value})`, bearer(token), 'invalid_claims');
    }),
  );
  return [
    attack('alg none, no signature', bearer(`${segment({ alg: 'none' })}.${segment(claims)}.`), 'malformed_token'),
    attack(
      'alg none with a signature',
      bearer(`${segment({ alg: 'none', kid: keys.key.jwk.kid })}.${segment(claims)}.${signature}`),
      'algorithm_not_allowed',
    ),
    attack('HS256 keyed with the public key PEM', bearer(hmac), 'algorithm_not_allowed'),
    attack('expired beyond the tolerance', bearer(await keys.sign({ exp: now() - 31 })), 'token_expired'),
    attack('not yet valid', bearer(await keys.sign({ nbf: now() + 120 })), 'token_not_yet_valid'),
    attack('without exp', bearer(await keys.sign({ exp: undefined })), 'invalid_claims'),
    ...nonFinite,
    attack('wrong issuer', bearer(await keys.sign({ iss: 'https://evil.example.test' })), 'unknown_issuer'),
    attack('wrong audience', bearer(await keys.sign({ aud: 'https://other.example.test' })), 'wrong_audience'),
    attack('no audience', bearer(await keys.sign({ aud: undefined })), 'wrong_audience'),
    attack('a flipped signature byte', bearer(`${header}.${payload}.${flipped}`), 'bad_signature'),
    attack(
      'a changed payload under the old signature',
      bearer(`${header}.${segment({ ...claims, scope: 'orders.admin' })}.${signature}`),
      'bad_signature',
    ),
    attack('an unknown kid', bearer(await keys.sign({}, { key: impostor })), 'unknown_key'),
    attack(
      'another key under the real kid',
      bearer(await keys.sign({}, { key: { ...impostor, jwk: { ...impostor.jwk, kid: keys.key.jwk.kid } } })),
      'bad_signature',
    ),
    attack('garbage', bearer('not-a-jwt'), 'malformed_token'),
    attack('three garbage parts', bearer('aaa.bbb.ccc'), 'malformed_token'),
    attack('an encrypted (five-part) token', bearer('a.b.c.d.e'), 'malformed_token'),
    attack('a 40 KB token', bearer(`${header}.${'A'.repeat(40 * 1024)}.${signature}`), 'token_too_large'),
    // Node's HTTP/2 layer resets a stream whose header block passes 64 KB (RST_STREAM COMPRESSION_ERROR,
    // INTERNAL at the client) before grpc-js or any interceptor sees it; the stream only, not the connection.
    {
      name: 'a 100 KB token',
      metadata: bearer(`${header}.${'A'.repeat(100 * 1024)}.${signature}`),
      code: grpc.status.INTERNAL,
      reason: undefined,
    },
    attack('Basic credentials', bearer(Buffer.from('orders-svc:secret').toString('base64'), 'Basic'), 'not_bearer'),
    attack('the scheme without a token', metadataOf('Bearer'), 'malformed_token'),
    attack('a bare token without a scheme', metadataOf(good), 'not_bearer'),
    attack(
      'an unknown critical header',
      bearer(await signRaw(keys, { alg: 'RS256', kid: keys.key.jwk.kid, crit: ['x-unknown'], 'x-unknown': 1 }, claims)),
      'malformed_token',
    ),
  ];
}

/** A server for the key server's issuer, and a client on plain TLS (the tests set authorization themselves). */
async function server(t: TestContext, keys: KeyServer) {
  const auth = await startAuthServer(t, {
    issuer: keys.issuer,
    audience,
    jwksUri: keys.jwksUri,
    allowInsecureRequests: true,
    methods: echoPolicy,
  });
  return { auth, client: auth.client() };
}

describe('attack corpus', () => {
  it('refuses every hostile token with the right code and reason, and no handler runs', async (t) => {
    const keys = await startKeyServer(t);
    const { auth, client } = await server(t, keys);
    const attacks = await corpus(keys);
    const refused: string[] = [];
    for (const { name, metadata, code, reason } of attacks) {
      const { error } = await unary(client, { metadata });
      assert.equal(error?.code, code, `${name}: ${error?.details}`);
      assert.equal(reasonOf(error), reason, name);
      refused.push(name);
    }
    assert.equal(refused.length, attacks.length);
    assert.deepEqual(auth.sightings, []);
    t.diagnostic(`attack corpus: ${attacks.length} cases, ${refused.length} refused`);
  });

  it('accepts the real token with the scheme in any letter case, and one expired within the tolerance', async (t) => {
    const keys = await startKeyServer(t);
    const { client } = await server(t, keys);
    for (const scheme of ['Bearer', 'bearer', 'BEARER'])
      assert.equal((await unary(client, { metadata: bearer(await keys.sign(), scheme) })).error, undefined, scheme);
    assert.equal((await unary(client, { metadata: bearer(await keys.sign({ exp: now() - 10 })) })).error, undefined);
  });

  it('never shows the token in status details or trailers', async (t) => {
    const keys = await startKeyServer(t);
    const { client } = await server(t, keys);
    for (const { name, metadata } of await corpus(keys)) {
      const { error } = await unary(client, { metadata });
      const shown = JSON.stringify({ details: error?.details, trailers: error?.metadata.toJSON() });
      for (const value of metadata.get('authorization')) {
        const token = String(value).split(' ').pop() ?? '';
        for (const part of token.split('.')) if (part.length > 8) assert.ok(!shown.includes(part), name);
      }
    }
  });
});

describe('two authorization values', () => {
  it('refuses a call whose metadata reaches the interceptor with two authorization values', async (t) => {
    // Two sent on the wire never reach an interceptor: Node's HTTP/2 layer keeps the first
    // (test/grpc/grpc-js-facts.test.ts). Another interceptor ahead of ours can produce two.
    const keys = await startKeyServer(t);
    const good = await keys.sign();
    const addSecond: grpc.ServerInterceptor = (_descriptor, call) =>
      new grpc.ServerInterceptingCall(call, {
        start: (next) =>
          next({
            onReceiveMetadata: (metadata, pass) => {
              metadata.add('authorization', `Bearer ${good}`);
              pass(metadata);
            },
          }),
      });
    const auth = await startAuthServer(
      t,
      { issuer: keys.issuer, audience, jwksUri: keys.jwksUri, allowInsecureRequests: true, methods: echoPolicy },
      { before: [addSecond] },
    );
    const { error } = await unary(auth.client(), { metadata: bearer(good) });
    assert.equal(error?.code, unauthenticated);
    assert.equal(reasonOf(error), 'multiple_authorization');
    assert.deepEqual(auth.sightings, []);
  });
});

describe('fuzzing the authorization value', () => {
  it('refuses 3,000 random and mutated values without a crash, and the server still serves', async (t) => {
    const keys = await startKeyServer(t);
    const { client } = await server(t, keys);
    const good = await keys.sign();
    const crashes: unknown[] = [];
    const onRejection = (reason: unknown): number => crashes.push(reason);
    process.on('unhandledRejection', onRejection);
    t.after(() => process.off('unhandledRejection', onRejection));

    const printable = fc.string({
      unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))),
      maxLength: 300,
    });
    const jsonish = fc.jsonValue().map(segment);
    const mutated = fc
      .tuple(fc.nat({ max: good.lastIndexOf('.') - 1 }), fc.constantFrom(...'AZaz09-_.!'))
      .map(([at, char]) => `${good.slice(0, at)}${char}${good.slice(at + 1)}`);
    const value = fc.oneof(
      printable,
      printable.map((text) => `Bearer ${text}`),
      fc.tuple(jsonish, jsonish, fc.base64String()).map(([h, p, s]) => `Bearer ${h}.${p}.${s.replace(/=/g, '')}`),
      mutated.map((token) => `Bearer ${token}`),
    );
    const samples = fc.sample(value, { numRuns: 3000, seed: 9 });
    const outcomes = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 100) {
      const batch = samples.slice(i, i + 100).map(async (text) => {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', text.trim() === text ? text : text.trim() || 'x');
        const { error } = await unary(client, { metadata });
        outcomes.set(error?.code ?? 0, (outcomes.get(error?.code ?? 0) ?? 0) + 1);
      });
      await Promise.all(batch);
    }
    // A mutation may leave the token as it was (the same character put back): that one passes.
    const passed = outcomes.get(0) ?? 0;
    assert.equal((outcomes.get(unauthenticated) ?? 0) + passed, samples.length, JSON.stringify([...outcomes]));
    assert.ok(passed < 30, `${passed} passed`);
    assert.deepEqual(crashes, []);
    assert.equal((await unary(client, { metadata: bearer(good) })).error, undefined);
  });
});
