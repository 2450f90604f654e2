// Run by leaks.test.ts with NODE_DEBUG=grpc-oauth2: drives an Introspector through every failure an
// introspection endpoint can show, against an endpoint that echoes what it received, and reports each
// refusal the way the interceptor does (audit's report(), whose debug lines go to stderr). Prints
// { captured, forbidden } as JSON: every text the SDK produced, and every value none may contain.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { inspect } from 'node:util';
import { report } from '../../../src/server/audit.js';
import { Denial } from '../../../src/server/denial.js';
import type { Introspector } from '../../../src/server/introspection/introspector.js';
import type { IntrospectionOptions } from '../../../src/server/introspection/options.js';
import { resolveIntrospectionOptions } from '../../../src/server/introspection/options.js';
import { echoingChallenge, echoOf, type RawAnswer, type RawRequest } from '../../helpers/raw-token-server.js';
import { clientId, introspect, introspectionFixture, opaqueToken } from '../fixture.js';

const secret = "Leak-Scan_Secret.9f!8e~7d*6c'5b(4a)+/= 0x";
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const captured: { where: string; text: string }[] = [];
const forbidden = new Set<string>([
  secret,
  ...privatePem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----')),
]);
const cleanups: (() => unknown)[] = [];
const context = { after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext;

function capture(where: string, value: unknown): void {
  captured.push({ where, text: inspect(value, { showHidden: true, depth: 8, getters: true }) });
  captured.push({ where: `${where} (JSON)`, text: JSON.stringify(value) ?? '' });
  if (value instanceof Denial)
    captured.push({ where: `${where} (internal)`, text: `${value.details} ${value.internalDetails}` });
  if (value instanceof Error)
    captured.push({ where: `${where} (message)`, text: `${value.message}\n${value.stack ?? ''}` });
}

/** Every form in which a request carried its token, secret and assertion, as the endpoint received them. */
function rememberWireValues(request: RawRequest): void {
  const authorization = request.headers.authorization ?? '';
  const basic = authorization.replace(/^Basic /i, '');
  if (basic !== authorization) forbidden.add(basic).add(Buffer.from(basic, 'base64').toString());
  for (const pair of request.body.split('&')) {
    const [name = '', raw = ''] = pair.split('=');
    if (!['token', 'client_secret', 'client_assertion'].includes(name)) continue;
    forbidden.add(raw).add(decodeURIComponent(raw.replace(/\+/g, ' ')));
  }
}

const fixture = await introspectionFixture(context);
const { endpoint, make } = fixture;
/** A new opaque token with the characters its encodings differ on. */
function newToken(): string {
  const token = `${opaqueToken()}+/=~.tail`;
  forbidden.add(token).add(encodeURIComponent(token));
  return token;
}

/** Asks about a new token with the endpoint answering `answer`; captures and reports the outcome. */
async function scene(
  name: string,
  answer: RawAnswer | ((request: RawRequest) => RawAnswer),
  options: Partial<IntrospectionOptions> = { clientSecret: secret },
  introspector?: Introspector,
): Promise<void> {
  endpoint.client = { clientId, secret, publicKey };
  endpoint.fault = (request) => {
    rememberWireValues(request);
    return typeof answer === 'function' ? answer(request) : answer;
  };
  const result = await introspect(
    introspector ?? make({ clientSecret: undefined, ...options }, { requestTimeoutMs: 300 }),
    newToken(),
  );
  capture(name, result);
  if (result instanceof Denial)
    report(undefined, '/orders.v1.Orders/Get', { denial: result, claims: undefined, isPublic: false });
}

const said = echoOf;
const bodyParameter = (r: RawRequest, name: string): string => new URLSearchParams(r.body).get(name) ?? '';
const post: Partial<IntrospectionOptions> = { clientSecret: secret, clientAuthMethod: 'client_secret_post' };
const withKey: Partial<IntrospectionOptions> = { privateKey: privatePem };

await scene('echo in a 401 challenge and body', echoingChallenge);
await scene('echo of the body as the error code', (r) => ({
  status: 400,
  body: { error: r.body, error_description: r.body },
}));
await scene(
  'echo of the decoded token and secret as the error',
  (r) => ({
    status: 400,
    body: { error: bodyParameter(r, 'token'), error_description: bodyParameter(r, 'client_secret') },
  }),
  post,
);
await scene(
  'echo of the token as the error code',
  (r) => ({ status: 400, body: { error: bodyParameter(r, 'token') } }),
  post,
);
await scene(
  'echo in a 503 text body',
  (r) => ({ status: 503, headers: { 'x-echo': said(r) }, body: `down; ${said(r)}` }),
  post,
);
await scene('echo in a 500 JSON body', (r) => ({
  status: 500,
  body: { error: 'server_error', error_description: said(r) },
}));
await scene('echo as a page', (r) => ({ body: `<html>${said(r)}</html>`, headers: { 'content-type': 'text/html' } }));
await scene('echo as a JSON string', (r) => ({
  body: JSON.stringify(said(r)),
  headers: { 'content-type': 'application/json' },
}));
await scene('echo in active', (r) => ({ body: { active: bodyParameter(r, 'token') } }));
await scene('echo as iss and aud', (r) => ({ body: { active: true, iss: bodyParameter(r, 'token'), aud: r.body } }));
await scene('echo as aud', (r) => ({ body: { active: true, aud: [bodyParameter(r, 'token')] } }));
await scene('echo as exp', (r) => ({ body: { active: true, exp: bodyParameter(r, 'token') } }));
await scene('echo in a body too large', (r) => ({ body: { active: true, pad: said(r).repeat(20_000) } }));
await scene(
  'echo of the assertion',
  (r) => ({ status: 401, body: { error: 'invalid_client', error_description: said(r) } }),
  withKey,
);
await scene(
  'echo of the assertion as the error code',
  (r) => ({ status: 400, body: { error: bodyParameter(r, 'client_assertion') } }),
  withKey,
);
await scene('hang', { fault: 'hang' });
await scene('reset', { fault: 'reset' });
await scene('nothing listening', { status: 200 }, { clientSecret: secret, endpoint: 'http://127.0.0.1:1/introspect' });

// A rotated secret file, refused before and after the re-read.
const dir = await mkdtemp(join(tmpdir(), 'introspection-leaks-'));
cleanups.push(() => rm(dir, { recursive: true, force: true }));
const secretFile = join(dir, 'secret');
await writeFile(secretFile, secret);
const fromFile = make({ clientSecret: undefined, clientSecretFile: secretFile }, { requestTimeoutMs: 300 });
await scene(
  'secret file, refused',
  (r) => ({ status: 401, body: { error: 'invalid_client', error_description: said(r) } }),
  {},
  fromFile,
);
const rotatedSecret = 'Rotated-Leak_Secret!(2)';
forbidden.add(rotatedSecret);
await writeFile(secretFile, rotatedSecret);
await scene(
  'secret file, rotated and refused',
  (r) => ({ status: 401, body: { error: 'invalid_client', error_description: said(r) } }),
  {},
  fromFile,
);

// The flood bound, with one request held.
const bounded = make({ clientSecret: secret, maxConcurrentRequests: 1 });
let open!: () => void;
endpoint.gate = new Promise((resolve) => (open = resolve));
const held = introspect(bounded, newToken());
await scene('over maxConcurrentRequests', { body: { active: false } }, {}, bounded);
open();
endpoint.gate = undefined;
capture('held', await held);

// ready() and the options.
for (const [name, options] of [
  ['unreadable secret file', { clientSecretFile: join(dir, 'missing') }],
  ['unimportable key', { privateKey: privatePem.replace('MII', 'MIX') }],
] as const) {
  await make({ clientSecret: undefined, ...options })
    .ready()
    .then(
      () => captured.push({ where: name, text: 'ready() resolved' }),
      (err: unknown) => capture(`ready: ${name}`, err),
    );
}
for (const [name, options] of [
  ['misspelt secret option', { clientId, clientSecrets: secret }],
  ['secret as the endpoint', { clientId, clientSecret: secret, endpoint: secret }],
  ['secret as clientAuthMethod', { clientId, clientSecret: secret, clientAuthMethod: secret }],
  ['secret as the client id, with two credentials', { clientId: secret, clientSecret: secret, privateKey: privatePem }],
] as const) {
  try {
    resolveIntrospectionOptions(options, 'leaks: issuers[0]', true);
    captured.push({ where: name, text: 'accepted' });
  } catch (err) {
    capture(`options: ${name}`, err);
  }
}
capture('the introspector', bounded);

for (const cleanup of cleanups.reverse()) await cleanup();
process.stdout.write(JSON.stringify({ captured, forbidden: [...forbidden].filter((value) => value.length >= 8) }));
