import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { exportJWK, importPKCS8 } from 'jose';
import { createCallCredentials } from '../../src/index.js';
import { MockTokenServer } from '../../src/testing/index.js';
import { TokenError } from '../../src/index.js';
import { diagnosticsChannels } from '../../src/index.js';
import type { TokenManagerOptions } from '../../src/index.js';
import { TokenManager } from '../../src/index.js';

// The values no output may ever contain.
const clientId = 'leak-client';
const clientSecret = 'Leak-Scan-Secret-9f8e7d6c5b4a';
const knownToken = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJsZWFrIn0.known-token-value-1234567890';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pemBody = privatePem.split('\n').filter((line) => line && !line.startsWith('-----'));
let privateJwkD = '';
const basicForms = [
  Buffer.from(`${clientId}:${clientSecret}`).toString('base64'),
  Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64'),
];
const issuedTokens: string[] = [];

function forbidden(): string[] {
  return [clientSecret, ...basicForms, knownToken, ...pemBody.slice(1, -1), privateJwkD, ...issuedTokens].filter((v) => v.length >= 8);
}

/** Everything the SDK produced during the scan, as text. */
const captured: { where: string; text: string }[] = [];
function capture(where: string, value: unknown): void {
  captured.push({ where, text: inspect(value, { showHidden: true, depth: 12, getters: true }) });
  try {
    captured.push({ where: `${where} (JSON)`, text: JSON.stringify(value) ?? '' });
  } catch {
    // Circular payloads cannot be JSON; inspect covered them.
  }
  if (value instanceof Error) {
    captured.push({ where: `${where} (message)`, text: value.message }, { where: `${where} (stack)`, text: value.stack ?? '' });
  }
}

function observe(tokens: TokenManager, label: string): void {
  tokens.on('tokenIssued', (e) => capture(`${label} tokenIssued`, e));
  tokens.on('refreshFailed', (e) => capture(`${label} refreshFailed`, e));
  tokens.on('fatalFailure', (e) => capture(`${label} fatalFailure`, e));
}

/** A raw server whose answer the scene sets, including answers that echo what they were sent. */
let echo: (req: IncomingMessage, body: string, res: ServerResponse) => void = (_req, _body, res) => res.end();
const echoServer = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => echo(req, body, res));
});
let echoEndpoint = '';
let mock: MockTokenServer;
let dir = '';

const channelListener = (message: unknown, name: string | symbol): void => capture(`diagnostics_channel ${String(name)}`, message);
const writes: string[] = [];
const originalStdout = process.stdout.write.bind(process.stdout);
const originalStderr = process.stderr.write.bind(process.stderr);
const warnings: Error[] = [];
const onWarning = (w: Error): void => void warnings.push(w);

before(async () => {
  privateJwkD = String((await exportJWK(await importPKCS8(privatePem, 'RS256', { extractable: true }))).d);
  await new Promise<void>((resolve) => echoServer.listen(0, '127.0.0.1', resolve));
  echoEndpoint = `http://127.0.0.1:${(echoServer.address() as AddressInfo).port}/token`;
  mock = await MockTokenServer.start();
  mock.addClient({ clientId, clientSecret });
  dir = await mkdtemp(join(tmpdir(), 'leak-'));
  for (const name of Object.values(diagnosticsChannels)) subscribe(name, channelListener);
  process.on('warning', onWarning);
});

after(async () => {
  for (const name of Object.values(diagnosticsChannels)) unsubscribe(name, channelListener);
  process.off('warning', onWarning);
  echoServer.closeAllConnections();
  await new Promise((resolve) => echoServer.close(resolve));
  await mock.close();
  await rm(dir, { recursive: true, force: true });
});

async function failure(label: string, options: TokenManagerOptions): Promise<void> {
  const tokens = new TokenManager({ clientId, allowInsecureRequests: true, requestTimeoutMs: 300, retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 2 }, ...options });
  observe(tokens, label);
  try {
    await tokens.getToken();
    assert.fail(`${label}: expected a failure`);
  } catch (err) {
    assert.ok(err instanceof TokenError, `${label}: ${String(err)}`);
    capture(label, err);
    // What a gRPC call would see for the same failure.
    const status = await createCallCredentials(tokens, { channelCredentials: grpc.credentials.createSsl() })
      .generateMetadata({ service_url: 'https://svc.example.test/pkg.Svc', method_name: 'Do' })
      .then(() => undefined, (e: unknown) => e);
    capture(`${label} grpc status`, status);
  } finally {
    tokens.close();
  }
}

describe('leak scan', () => {
  it('keeps the secret, its Basic form, the private key and tokens out of every error, event, channel message and output line', async () => {
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      writes.push(String(chunk));
      return originalStdout(chunk, ...(rest as []));
    });
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      writes.push(String(chunk));
      return originalStderr(chunk, ...(rest as []));
    });
    try {
      await scenes();
    } finally {
      process.stdout.write = originalStdout;
      process.stderr.write = originalStderr;
    }
    for (const w of warnings) capture('process warning', w);
    for (const line of writes) captured.push({ where: 'stdout/stderr', text: line });

    assert.ok(captured.length > 50, `the scan saw ${captured.length} outputs`);
    const secrets = forbidden();
    assert.ok(secrets.length >= 5);
    for (const { where, text } of captured) {
      for (const secret of secrets) {
        assert.ok(!text.includes(secret), `${where} contains a secret (${secret.slice(0, 6)}…):\n${text.slice(0, 400)}`);
      }
    }
  });
});

async function scenes(): Promise<void> {
  // A wrong secret, both client-secret methods.
  await failure('wrong secret (basic)', { tokenEndpoint: mock.tokenEndpoint, clientId: 'unknown-client', clientSecret });
  await failure('wrong secret (post)', { tokenEndpoint: mock.tokenEndpoint, clientId: 'unknown-client', clientSecret, clientAuthMethod: 'client_secret_post' });

  // A server that echoes the credentials it received, in the body and in a header.
  echo = (req, body, res) => {
    const said = `you sent ${req.headers.authorization ?? ''} and ${body}`;
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': `Basic error="invalid_client", error_description="${said.replace(/"/g, '')}"` });
    res.end(JSON.stringify({ error: 'invalid_client', error_description: said }));
  };
  await failure('echoing 401', { tokenEndpoint: echoEndpoint, clientSecret });
  echo = (req, body, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_request', error_description: `bad ${body} ${req.headers.authorization ?? ''}` }));
  };
  await failure('echoing 400 (post)', { tokenEndpoint: echoEndpoint, clientSecret, clientAuthMethod: 'client_secret_post' });
  echo = (req, body, res) => {
    res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '0', 'x-echo': String(req.headers.authorization) });
    res.end(`down; you sent ${body}`);
  };
  await failure('echoing 503', { tokenEndpoint: echoEndpoint, clientSecret });
  echo = (_req, body, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_client', error_description: body }));
  };
  await failure('echoing private_key_jwt assertion', { tokenEndpoint: echoEndpoint, privateKey: privatePem });

  // Answers that carry a token but are unusable.
  for (const [what, answer] of [
    ['mac token', { access_token: knownToken, token_type: 'mac', expires_in: 60 }],
    ['bad expires_in', { access_token: knownToken, token_type: 'Bearer', expires_in: 'later' }],
    ['negative expires_in', { access_token: knownToken, token_type: 'Bearer', expires_in: -1 }],
    ['expired JWT', { access_token: knownToken.replace('eyJzdWIiOiJsZWFrIn0', Buffer.from('{"exp":1}').toString('base64url')), token_type: 'Bearer' }],
    ['token in token_type', { access_token: 'x', token_type: knownToken }],
  ] as const) {
    echo = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    };
    await failure(what, { tokenEndpoint: echoEndpoint, clientSecret });
  }

  // Transport failures.
  echo = () => undefined; // never answers
  await failure('timeout', { tokenEndpoint: echoEndpoint, clientSecret });
  echo = (req) => req.socket.destroy();
  await failure('reset', { tokenEndpoint: echoEndpoint, clientSecret });
  await failure('refused', { tokenEndpoint: 'http://127.0.0.1:1/token', clientSecret });

  // Configuration and key material.
  await failure('unknown private_key_jwt client', { tokenEndpoint: mock.tokenEndpoint, clientId: 'nobody', privateKey: privatePem });
  await failure('unimportable key', { tokenEndpoint: mock.tokenEndpoint, privateKey: privatePem.replace('MII', 'MIX') });
  try {
    new TokenManager({ tokenEndpoint: 'not a url', clientId, clientSecret });
  } catch (err) {
    capture('bad option', err);
  }
  const brokenKeyFile = join(dir, 'broken.json');
  await writeFile(brokenKeyFile, `{"type":"service_account","private_key":${JSON.stringify(privatePem)},"client_email":5`);
  try {
    TokenManager.fromServiceAccountFile(brokenKeyFile);
  } catch (err) {
    capture('broken key file', err);
  }
  const wrongFieldFile = join(dir, 'wrong.json');
  await writeFile(wrongFieldFile, JSON.stringify({ type: 'service_account', private_key: privatePem, client_email: clientSecret, token_uri: 5 }));
  try {
    TokenManager.fromServiceAccountFile(wrongFieldFile);
  } catch (err) {
    capture('key file with a bad field', err);
  }

  // Success, logged the way a user might.
  const tokens = new TokenManager({ tokenEndpoint: mock.tokenEndpoint, clientId, clientSecret, allowInsecureRequests: true });
  observe(tokens, 'success');
  const token = await tokens.getToken();
  issuedTokens.push(token.accessToken);
  console.log('token:', token, `${String(token)}`, JSON.stringify({ token }));
  console.log('manager:', tokens, tokens.stats());
  capture('token', token);
  capture('manager', tokens);
  capture('mock request log', mock.requests);
  tokens.close();
}
