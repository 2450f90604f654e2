import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  createAuthInterceptor,
  createCallCredentials,
  createChannelCredentials,
  InsecureChannelError,
} from '../../src/index.js';
import { createTestCertificates } from '../../src/testing/index.js';
import { collectWarnings, startScene, unary, warningsEmitted } from '../helpers/grpc-fixture.js';

test('createCallCredentials refuses insecure channel credentials at construction, before any token is fetched', async (t) => {
  const scene = await startScene(t, { tls: false });

  assert.throws(
    () => createCallCredentials(scene.tokens, { channelCredentials: grpc.credentials.createInsecure() }),
    (err: unknown) => err instanceof InsecureChannelError && err.message.includes('allowInsecureChannel'),
  );
  assert.equal(scene.tokenServer.tokenRequestCount, 0);
});

test('createCallCredentials with allowInsecureChannel sends the token over plaintext after the one warning', async (t) => {
  const scene = await startScene(t, { tls: false });
  const warnings = collectWarnings(t, 'InsecureChannelWarning');
  const insecure = grpc.credentials.createInsecure();
  const credentials = createCallCredentials(scene.tokens, { channelCredentials: insecure, allowInsecureChannel: true });

  const result = await unary(scene.grpcServer.client(insecure), { options: { credentials } });
  await warningsEmitted();

  assert.equal(result.error, undefined);
  assert.equal(result.replies[0]?.authorization.length, 1);
  assert.equal(warnings.length, 1);
});

/** Test CA trusted, but the server's certificate not verified by the given options. */
async function unverifiedTls(verifyOptions: grpc.VerifyOptions): Promise<grpc.ChannelCredentials> {
  const { caCertBuffer } = await createTestCertificates();
  return grpc.credentials.createSsl(caCertBuffer, null, null, verifyOptions);
}

test('TLS credentials made with rejectUnauthorized: false are warned about once, naming no token', async (t) => {
  const scene = await startScene(t);
  const warnings = collectWarnings(t, 'UnverifiedTlsWarning');
  const tls = await unverifiedTls({ rejectUnauthorized: false });

  createAuthInterceptor(scene.tokens, { channelCredentials: tls });
  createChannelCredentials(tls, scene.tokens);
  createCallCredentials(scene.tokens, { channelCredentials: await unverifiedTls({ rejectUnauthorized: false }) });
  await warningsEmitted();

  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /rejectUnauthorized: false/);
  assert.match(warnings[0]?.message ?? '', /not verified/);
});

test('TLS credentials whose checkServerIdentity accepts any server are warned about once too', async (t) => {
  const scene = await startScene(t);
  const warnings = collectWarnings(t, 'UnverifiedTlsWarning');

  createChannelCredentials(await unverifiedTls({ checkServerIdentity: () => undefined }), scene.tokens);
  createAuthInterceptor(scene.tokens, {
    channelCredentials: await unverifiedTls({ checkServerIdentity: () => undefined }),
  });
  await warningsEmitted();

  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', /checkServerIdentity accepts any server/);
});

test('plain TLS credentials, and ones with a checkServerIdentity that rejects, are not warned about', async (t) => {
  const scene = await startScene(t);
  const warnings = collectWarnings(t, 'UnverifiedTlsWarning');

  createAuthInterceptor(scene.tokens, { channelCredentials: scene.grpcServer.channelCredentials() });
  createChannelCredentials(
    await unverifiedTls({ checkServerIdentity: () => new Error('pinned certificate mismatch') }),
    scene.tokens,
  );
  await warningsEmitted();

  assert.equal(warnings.length, 0);
});
