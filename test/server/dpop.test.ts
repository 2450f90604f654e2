// DPoP proofs (RFC 9449) on a real grpc-js server over TLS: a token bound to a key (`cnf.jkt`) passes
// with `authorization: DPoP` and a valid `dpop` proof of that key for the call's method and authority,
// on all four call kinds; every bad proof is refused with the check that failed; a replayed proof is
// refused; the replay cache stays within its cap.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { ServerAuthOptions } from '../../src/server/index.js';
import { createServerAuthInterceptor } from '../../src/server/index.js';
import { DpopKeys } from '../../src/server/dpop-keys.js';
import { DpopReplayCache } from '../../src/server/dpop-replay-cache.js';
import { invalidOption } from '../helpers/config-error.js';
import { bidi, clientStream, methodPaths, serverStream, unary } from '../helpers/grpc-fixture.js';
import { reasonOf, startAuthServer, startKeyServer, trusting, type AuthServer, type KeyServer } from './fixture.js';

const kinds = { unary, clientStream, serverStream, bidi } as const;
const kindPaths = {
  unary: methodPaths.unary,
  clientStream: methodPaths.clientStream,
  serverStream: methodPaths.serverStream,
  bidi: methodPaths.bidi,
} as const;

/** The authority the fixture's clients dial (`grpc.default_authority`). */
const authority = 'localhost';
const htuOf = (path: string): string => `https://${authority}${path}`;

interface Holder {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
  readonly jkt: string;
}

async function newHolder(): Promise<Holder> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

const athOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

interface ProofParts {
  readonly claims?: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
  readonly key?: CryptoKey;
}

/** A proof by `holder` for `token` on `path`, with `parts` over the defaults. */
function proofFor(holder: Holder, token: string, path: string, parts: ProofParts = {}): Promise<string> {
  return new SignJWT({
    htm: 'POST',
    htu: htuOf(path),
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
    ath: athOf(token),
    ...parts.claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: holder.jwk, ...parts.header })
    .sign(parts.key ?? holder.privateKey);
}

function dpopMetadata(token: string, ...proofs: string[]): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `DPoP ${token}`);
  for (const proof of proofs) metadata.add('dpop', proof);
  return metadata;
}

interface Scene {
  readonly keys: KeyServer;
  readonly server: AuthServer;
  readonly client: grpc.Client;
  readonly holder: Holder;
  /** A token bound to `holder` (scopes for every echo method). */
  readonly token: string;
}

async function startScene(t: TestContext, options: Partial<ServerAuthOptions> = {}): Promise<Scene> {
  const keys = await startKeyServer(t);
  const server = await startAuthServer(t, { ...trusting(keys), ...options });
  const holder = await newHolder();
  const token = await keys.sign({ scope: 'orders.read orders.write', cnf: { jkt: holder.jkt } });
  return { keys, server, client: server.client(), holder, token };
}

async function refusedWith(
  scene: Scene,
  metadata: grpc.Metadata,
  reason: string,
  what: string,
  fragment?: string,
): Promise<void> {
  const before = scene.server.sightings.length;
  const { error } = await unary(scene.client, { metadata });
  assert.equal(error?.code, grpc.status.UNAUTHENTICATED, what);
  assert.equal(reasonOf(error), reason, what);
  if (fragment !== undefined) assert.match(error?.details ?? '', new RegExp(fragment), what);
  assert.equal(scene.server.sightings.length, before, `${what}: the handler never ran`);
  for (const value of [...metadata.get('authorization'), ...metadata.get('dpop')])
    for (const piece of String(value).split(/[ .]/))
      if (piece.length > 20) assert.ok(!(error?.details ?? '').includes(piece), `${what}: details quote the input`);
}

test('a bound token with a valid proof passes on all four call kinds', async (t) => {
  const scene = await startScene(t);
  for (const [kind, call] of Object.entries(kinds)) {
    const proof = await proofFor(scene.holder, scene.token, kindPaths[kind as keyof typeof kinds]);
    const { error } = await call(scene.client, { metadata: dpopMetadata(scene.token, proof) });
    assert.equal(error, undefined, kind);
  }
});

test('the proof checks: each bad proof is refused with the check that failed', async (t) => {
  const scene = await startScene(t);
  const { holder, token } = scene;
  const path = methodPaths.unary;
  const now = Math.floor(Date.now() / 1000);
  const other = await newHolder();
  const { privateKey: rsaPrivate } = await generateKeyPair('RS256', { extractable: true });
  const rsaPrivateJwk = await exportJWK(rsaPrivate);
  const ecPrivateJwk = await exportJWK(holder.privateKey);
  const unsigned = (header: Record<string, unknown>, claims: Record<string, unknown>): string =>
    `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.AAAA`;
  const baseClaims = { htm: 'POST', htu: htuOf(path), iat: now, jti: randomUUID(), ath: athOf(token) };
  const hmac = await new SignJWT(baseClaims)
    .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: holder.jwk })
    .sign(new Uint8Array(32).fill(7));
  const cases: [string, string[], string, string][] = [
    ['no dpop value', [], 'dpop_missing', 'without a dpop proof'],
    [
      'two dpop values',
      [await proofFor(holder, token, path), await proofFor(holder, token, path)],
      'dpop_invalid',
      'not a compact JWS',
    ],
    ['not a JWS', ['not-a-proof'], 'dpop_invalid', 'not a compact JWS'],
    ['a proof larger than the cap', [`${'a'.repeat(9000)}.b.c`], 'dpop_invalid', 'larger than 8192'],
    [
      'alg none',
      [unsigned({ alg: 'none', typ: 'dpop+jwt', jwk: holder.jwk }, baseClaims)],
      'dpop_invalid',
      'alg is not',
    ],
    ['HS256', [hmac], 'dpop_invalid', 'alg is not'],
    [
      'typ other than dpop+jwt',
      [await proofFor(holder, token, path, { header: { typ: 'JWT' } })],
      'dpop_invalid',
      'typ is not',
    ],
    [
      'a private key as jwk',
      [await proofFor(holder, token, path, { header: { jwk: ecPrivateJwk } })],
      'dpop_invalid',
      'private key members',
    ],
    [
      'a public jwk with extra private members',
      [
        await proofFor(holder, token, path, {
          header: { jwk: { ...holder.jwk, p: rsaPrivateJwk.p, q: rsaPrivateJwk.q } },
        }),
      ],
      'dpop_invalid',
      'private key members',
    ],
    [
      'an RSA private key as jwk',
      [
        await new SignJWT(baseClaims)
          .setProtectedHeader({ alg: 'RS256', typ: 'dpop+jwt', jwk: rsaPrivateJwk })
          .sign(rsaPrivate),
      ],
      'dpop_invalid',
      'private key members',
    ],
    [
      'signed by another key than its jwk',
      [await proofFor(holder, token, path, { key: other.privateKey })],
      'dpop_invalid',
      'signature',
    ],
    [
      "a jwk whose alg is not the proof's",
      [await proofFor(holder, token, path, { header: { jwk: { ...holder.jwk, alg: 'ES384' } } })],
      'dpop_invalid',
      'use or alg',
    ],
    ['htm GET', [await proofFor(holder, token, path, { claims: { htm: 'GET' } })], 'dpop_invalid', 'htm is not POST'],
    [
      'htu with a query',
      [await proofFor(holder, token, path, { claims: { htu: `${htuOf(path)}?a=1` } })],
      'dpop_invalid',
      'htu is not',
    ],
    [
      'htu with a fragment',
      [await proofFor(holder, token, path, { claims: { htu: `${htuOf(path)}#x` } })],
      'dpop_invalid',
      'htu is not',
    ],
    ['htu of another method', [await proofFor(holder, token, methodPaths.bidi)], 'dpop_invalid', 'htu is not'],
    [
      'htu of another authority',
      [await proofFor(holder, token, path, { claims: { htu: `https://elsewhere.example${path}` } })],
      'dpop_invalid',
      'htu is not',
    ],
    [
      'htu over http',
      [await proofFor(holder, token, path, { claims: { htu: `http://${authority}${path}` } })],
      'dpop_invalid',
      'htu is not',
    ],
    [
      'iat far in the past',
      [await proofFor(holder, token, path, { claims: { iat: now - 3600 } })],
      'dpop_invalid',
      'iat too old',
    ],
    [
      'iat far in the future',
      [await proofFor(holder, token, path, { claims: { iat: now + 3600 } })],
      'dpop_invalid',
      'iat in the future',
    ],
    ['no iat', [await proofFor(holder, token, path, { claims: { iat: undefined } })], 'dpop_invalid', 'no iat'],
    ['no jti', [await proofFor(holder, token, path, { claims: { jti: undefined } })], 'dpop_invalid', 'jti missing'],
    [
      'a jti of 10 kB',
      [await proofFor(holder, token, path, { claims: { jti: 'j'.repeat(10_000) } })],
      'dpop_invalid',
      'larger than 8192',
    ],
    [
      'a jti of 300 characters',
      [await proofFor(holder, token, path, { claims: { jti: 'j'.repeat(300) } })],
      'dpop_invalid',
      'longer than 256',
    ],
    ['no ath', [await proofFor(holder, token, path, { claims: { ath: undefined } })], 'dpop_invalid', 'ath is not'],
    [
      'a wrong ath',
      [await proofFor(holder, token, path, { claims: { ath: athOf(`${token}x`) } })],
      'dpop_invalid',
      'ath is not',
    ],
    ['a key other than cnf.jkt', [await proofFor(other, token, path)], 'dpop_key_mismatch', 'another key'],
  ];
  for (const [what, proofs, reason, fragment] of cases)
    await refusedWith(scene, dpopMetadata(token, ...proofs), reason, what, fragment);
  // The proof checks come after the token's: every case above had a valid token, and a valid proof still passes.
  const { error } = await unary(scene.client, { metadata: dpopMetadata(token, await proofFor(holder, token, path)) });
  assert.equal(error, undefined);
});

test('schemes and modes: a bound token never as Bearer, the DPoP scheme for bound tokens only, bearer tokens unless required', async (t) => {
  const keys = await startKeyServer(t);
  const holder = await newHolder();
  const bound = await keys.sign({ scope: 'orders.read', cnf: { jkt: holder.jkt } });
  const plain = await keys.sign({ scope: 'orders.read' });
  const path = methodPaths.unary;
  const bearerOf = (token: string): grpc.Metadata => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  };
  for (const dpop of [undefined, 'allowed', 'required'] as const) {
    const server = await startAuthServer(t, { ...trusting(keys), ...(dpop === undefined ? {} : { dpop }) });
    const scene: Scene = { keys, server, client: server.client(), holder, token: bound };
    const what = `dpop: ${dpop ?? 'not set'}`;
    const boundAsBearer = bearerOf(bound);
    boundAsBearer.set('dpop', await proofFor(holder, bound, path));
    await refusedWith(scene, boundAsBearer, 'dpop_missing', `${what}, a bound token as Bearer`, 'Bearer scheme');
    await refusedWith(
      scene,
      dpopMetadata(plain, await proofFor(holder, plain, path)),
      'token_not_bound',
      `${what}, an unbound token as DPoP`,
      'not bound',
    );
    const ok = await unary(scene.client, { metadata: dpopMetadata(bound, await proofFor(holder, bound, path)) });
    assert.equal(ok.error, undefined, `${what}, a bound token with its proof`);
    if (dpop === 'required')
      await refusedWith(scene, bearerOf(plain), 'token_not_bound', `${what}, a bearer token`, 'DPoP-bound tokens');
    else
      assert.equal(
        (await unary(scene.client, { metadata: bearerOf(plain) })).error,
        undefined,
        `${what}, a bearer token`,
      );
  }
});

test('a malformed cnf.jkt is refused invalid_claims under either scheme, before any proof is looked at', async (t) => {
  const scene = await startScene(t);
  const path = methodPaths.unary;
  for (const jkt of [42, 'too-short', `${scene.holder.jkt}=`, null]) {
    const token = await scene.keys.sign({ scope: 'orders.read', cnf: { jkt } });
    const what = `cnf.jkt ${JSON.stringify(jkt)}`;
    const proof = await proofFor(scene.holder, token, path);
    await refusedWith(scene, dpopMetadata(token, proof), 'invalid_claims', `${what} as DPoP`, 'malformed cnf');
    const asBearer = new grpc.Metadata();
    asBearer.set('authorization', `Bearer ${token}`);
    await refusedWith(scene, asBearer, 'invalid_claims', `${what} as Bearer`, 'malformed cnf');
  }
});

test('a captured proof replayed 1,000 times, to its method and to another, is refused every time', async (t) => {
  const scene = await startScene(t);
  const captured = await proofFor(scene.holder, scene.token, methodPaths.unary);
  const first = await unary(scene.client, { metadata: dpopMetadata(scene.token, captured) });
  assert.equal(first.error, undefined);
  const reasons = new Map<string, number>();
  const tries = 1000;
  for (let i = 0; i < tries; i++) {
    // Half to the method it was made for, half to another (whose htu it does not name).
    const call = i % 2 === 0 ? unary : serverStream;
    const { error } = await call(scene.client, { metadata: dpopMetadata(scene.token, captured) });
    const reason = error === undefined ? 'accepted' : (reasonOf(error) ?? 'unknown');
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  t.diagnostic(`replays refused: ${JSON.stringify(Object.fromEntries(reasons))} of ${tries}`);
  assert.equal(reasons.get('accepted'), undefined);
  assert.equal(reasons.get('dpop_replayed'), tries / 2, 'to its own method');
  assert.equal(reasons.get('dpop_invalid'), tries / 2, 'to another method (htu)');
});

test('the replay cache holds at most dpopReplayCacheSize proofs, forgetting the oldest', async (t) => {
  const scene = await startScene(t, { dpopReplayCacheSize: 3 });
  const path = methodPaths.unary;
  const proofs = await Promise.all(Array.from({ length: 4 }, () => proofFor(scene.holder, scene.token, path)));
  for (const proof of proofs.slice(0, 3))
    assert.equal((await unary(scene.client, { metadata: dpopMetadata(scene.token, proof) })).error, undefined);
  await refusedWith(scene, dpopMetadata(scene.token, proofs[2]!), 'dpop_replayed', 'the third proof again');
  // A fourth proof makes the first the oldest beyond the cap: it is forgotten, the others are still held.
  assert.equal((await unary(scene.client, { metadata: dpopMetadata(scene.token, proofs[3]!) })).error, undefined);
  await refusedWith(scene, dpopMetadata(scene.token, proofs[1]!), 'dpop_replayed', 'the second proof again');
  const evicted = await unary(scene.client, { metadata: dpopMetadata(scene.token, proofs[0]!) });
  assert.equal(evicted.error, undefined, 'the first proof, forgotten at the cap (the price of bounded memory)');
});

test('the dpop options are checked', () => {
  const base = { issuer: 'https://issuer.example', audience: 'aud', methods: { '/a.B/*': [] } };
  for (const [options, message] of [
    [{ dpop: 'yes' }, /dpop must be 'required' or 'allowed'/],
    [{ dpop: true }, /dpop must be 'required' or 'allowed'/],
    [{ dpopMaxAgeSec: 0 }, /dpopMaxAgeSec/],
    [{ dpopReplayCacheSize: 0 }, /dpopReplayCacheSize/],
    [{ dpopReplayCacheSize: 1.5 }, /dpopReplayCacheSize/],
    [{ dpopMaxAge: 60 }, /dpopMaxAge.*dpopMaxAgeSec/],
  ] as const)
    assert.throws(() => createServerAuthInterceptor({ ...base, ...(options as object) }), invalidOption(message));
});

test("grpc-js fact: a server call's getHost() is the :authority the client dialled, and metadata (host, :authority) cannot change it", async (t) => {
  const keys = await startKeyServer(t);
  const hosts: string[] = [];
  const record: grpc.ServerInterceptor = (_descriptor, call) => {
    hosts.push(call.getHost());
    return new grpc.ServerInterceptingCall(call);
  };
  const server = await startAuthServer(t, trusting(keys), { before: [record] });
  const forged = new grpc.Metadata();
  forged.set('host', 'forged.example');
  // grpc-js takes a key starting with ':' in metadata; the channel's own :authority goes on the wire instead.
  forged.set(':authority', 'forged.example');
  await unary(server.client(), { metadata: forged });
  const port = server.address.split(':')[1];
  await unary(server.client(undefined, { 'grpc.default_authority': `127.0.0.1:${port}` }), { metadata: forged });
  assert.deepEqual(hosts, ['localhost', `127.0.0.1:${port}`]);
});

test('the replay cache stays within its cap under a flood of proofs, and drops those past their window', () => {
  const cache = new DpopReplayCache(1000);
  const nowMs = 1_000_000;
  let largest = 0;
  for (let i = 0; i < 100_000; i++) {
    assert.equal(cache.firstUse(`key.${i}`, nowMs + 60_000, nowMs), true);
    largest = Math.max(largest, cache.size);
  }
  assert.equal(largest, 1000);
  assert.equal(cache.firstUse('key.99999', nowMs + 60_000, nowMs), false, 'a held proof is a replay');
  // Once their window has passed, the held entries go as the next proof comes.
  assert.equal(cache.firstUse('later', nowMs + 200_000, nowMs + 120_000), true);
  assert.equal(cache.size, 1);
  assert.equal(cache.firstUse('key.99999', nowMs + 200_000, nowMs + 120_000), true, 'past its window: new again');
});

test('the proof keys are held up to their cap; a key forgotten is imported again, another key is a mismatch', async () => {
  const keys = new DpopKeys(2);
  const holders = await Promise.all([newHolder(), newHolder(), newHolder()]);
  for (const holder of holders) assert.notEqual(typeof (await keys.keyFor({ ...holder.jwk }, holder.jkt)), 'string');
  assert.equal(keys.size, 2);
  const [first, second] = holders;
  const back = await keys.keyFor({ ...first.jwk }, first.jkt);
  assert.ok(typeof back === 'object' && back.type === 'public', 'the first, forgotten, comes back');
  assert.equal(await keys.keyFor({ ...second.jwk }, first.jkt), 'mismatch');
  assert.equal(
    await keys.keyFor({ ...first.jwk, x: second.jwk.x }, first.jkt),
    'mismatch',
    'a held thumbprint, other members',
  );
  assert.equal(keys.size, 2);
});

test('a jwk whose kty names an Object.prototype member is no key, also under a held thumbprint (never a throw)', async () => {
  const keys = new DpopKeys();
  const holder = await newHolder();
  await keys.keyFor({ ...holder.jwk }, holder.jkt);
  for (const kty of ['toString', 'constructor', '__proto__', 'hasOwnProperty'])
    assert.equal(await keys.keyFor({ ...holder.jwk, kty }, holder.jkt), undefined, kty);
});
