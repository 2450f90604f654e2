import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { TokenError, TokenManager, type TokenManagerOptions } from '../../src/index.js';
import { MockWorkloadIssuer, writeTokenFile, type MockTokenServer } from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';
import { startRawTokenServer, type RawTokenServer } from '../helpers/raw-token-server.js';
import { createClock, startTokenServer } from '../helpers/token-fixtures.js';

const subject = 'system:serviceaccount:shop:orders';
const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'assertion-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A mock token server that trusts the cluster's tokens about `subject` as client `workload-client`'s assertions. */
async function federatedServer(
  t: TestContext,
  clock = createClock(),
): Promise<{ server: MockTokenServer; cluster: MockWorkloadIssuer }> {
  const server = await startTokenServer(t, { clock });
  const cluster = await MockWorkloadIssuer.create({ clock });
  server.addClient({
    clientId: 'workload-client',
    federatedCredential: { issuer: cluster.issuer, subject, publicKey: cluster.publicJwk },
  });
  return { server, cluster };
}

function manager(t: TestContext, options: TokenManagerOptions): TokenManager {
  const tokens = new TokenManager({
    clientId: 'workload-client',
    allowInsecureRequests: true,
    retry: { retries: 0 },
    ...options,
  });
  t.after(() => tokens.close());
  return tokens;
}

/** A raw token server that records each request and answers with a fresh opaque token, or `invalid_client` for a refused assertion. */
async function recordingServer(t: TestContext, refused: Set<string> = new Set()): Promise<RawTokenServer> {
  let issued = 0;
  return startRawTokenServer(t, (request) => {
    const assertion = new URLSearchParams(request.body).get('client_assertion') ?? '';
    if (refused.has(assertion)) return { status: 401, body: { error: 'invalid_client' } };
    return { body: { access_token: `opaque-token-${++issued}`, token_type: 'Bearer', expires_in: 3600 } };
  });
}

const sentAssertions = (server: RawTokenServer): (string | null)[] =>
  server.requests.map((r) => new URLSearchParams(r.body).get('client_assertion'));

describe('client assertions from a file (clientAssertionFile)', () => {
  it('authenticates with the JWT in the file as a jwt-bearer client assertion, with no secret or key', async (t) => {
    const clock = createClock();
    const { server, cluster } = await federatedServer(t, clock);
    const path = join(await tempDir(t), 'token');
    await cluster.writeTokenFile(path, { subject, audience: server.tokenEndpoint });
    const tokens = manager(t, {
      tokenEndpoint: server.tokenEndpoint,
      clientAssertionFile: path,
      scopes: ['orders.read'],
      clock,
    });

    const claims = await server.verifyAccessToken((await tokens.getToken()).accessToken);
    assert.equal(claims.client_id, 'workload-client');
    assert.equal(server.requests.at(-1)?.authMethod, 'private_key_jwt');
  });

  it('sends exactly grant_type, client_id, client_assertion_type, client_assertion and scope on the wire', async (t) => {
    const raw = await recordingServer(t);
    const path = join(await tempDir(t), 'token');
    const cluster = await MockWorkloadIssuer.create();
    const jwt = await cluster.writeTokenFile(path, { subject, audience: 'sts' });
    const tokens = manager(t, {
      tokenEndpoint: `${raw.url}/token`,
      clientAssertionFile: path,
      scopes: ['orders.read'],
    });
    await tokens.getToken();

    const body = new URLSearchParams(raw.requests[0]!.body);
    assert.deepEqual([...body.keys()].sort(), [
      'client_assertion',
      'client_assertion_type',
      'client_id',
      'grant_type',
      'scope',
    ]);
    assert.equal(body.get('grant_type'), 'client_credentials');
    assert.equal(body.get('client_assertion_type'), clientAssertionType);
    assert.equal(body.get('client_assertion'), jwt);
    assert.equal(raw.requests[0]!.headers.authorization, undefined);
  });

  it('sends the rotated assertion after the platform rewrites the file, without a restart', async (t) => {
    const raw = await recordingServer(t);
    const path = join(await tempDir(t), 'token');
    const cluster = await MockWorkloadIssuer.create();
    const first = await cluster.writeTokenFile(path, { subject, audience: 'sts' });
    const tokens = manager(t, { tokenEndpoint: `${raw.url}/token`, clientAssertionFile: path });
    await tokens.getToken();

    const second = await cluster.writeTokenFile(path, { subject, audience: 'sts' });
    tokens.invalidate();
    await tokens.getToken();
    assert.deepEqual(sentAssertions(raw), [first, second]);
  });

  it('reads the file again after invalid_client, even when a rewrite kept its size and mtime', async (t) => {
    const refused = new Set<string>();
    const raw = await recordingServer(t, refused);
    const path = join(await tempDir(t), 'token');
    const cluster = await MockWorkloadIssuer.create();
    const first = await cluster.sign({ subject, audience: 'sts' });
    // Whole seconds: utimes cannot restore an mtime finer than that.
    const mtimeSec = 1_800_000_000;
    await writeFile(path, first);
    await utimes(path, mtimeSec, mtimeSec);
    const tokens = manager(t, { tokenEndpoint: `${raw.url}/token`, clientAssertionFile: path });
    await tokens.getToken();

    // Rewritten in place with a token of the same length and the same mtime: the metadata look unchanged.
    let second = await cluster.sign({ subject, audience: 'sts' });
    while (second.length !== first.length) second = await cluster.sign({ subject, audience: 'sts' });
    const inode = (await stat(path)).ino;
    await writeFile(path, second);
    await utimes(path, mtimeSec, mtimeSec);
    assert.equal((await stat(path)).ino, inode);
    refused.add(first);
    tokens.invalidate();
    await tokens.getToken();
    assert.deepEqual(sentAssertions(raw), [first, first, second]);
  });

  it('fails with a config error naming a missing file, and sends nothing', async (t) => {
    const raw = await recordingServer(t);
    const path = join(await tempDir(t), 'not-mounted');
    const tokens = manager(t, { tokenEndpoint: `${raw.url}/token`, clientAssertionFile: path });
    await assert.rejects(tokens.getToken(), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'config');
      assert.equal(err.message, `clientAssertionFile ${path} could not be read (ENOENT)`);
      return true;
    });
    assert.equal(raw.requests.length, 0);
  });

  it('fails with a config error naming an empty file', async (t) => {
    const raw = await recordingServer(t);
    const path = join(await tempDir(t), 'token');
    await writeFile(path, '\n');
    const tokens = manager(t, { tokenEndpoint: `${raw.url}/token`, clientAssertionFile: path });
    await assert.rejects(tokens.getToken(), { code: 'config', message: `clientAssertionFile ${path} is empty` });
  });

  it('sends a JWT in the file that expired by this clock, and a refusal says when it expired and none of its content', async (t) => {
    const clock = createClock();
    const path = join(await tempDir(t), 'token');
    const cluster = await MockWorkloadIssuer.create({ clock });
    const jwt = await cluster.writeTokenFile(path, { subject, audience: 'sts', lifetimeSec: -60 });
    const raw = await recordingServer(t, new Set([jwt]));
    const tokens = manager(t, { tokenEndpoint: `${raw.url}/token`, clientAssertionFile: path, clock });
    await assert.rejects(tokens.getToken(), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.code, 'invalid_client');
      assert.match(
        err.message,
        new RegExp(
          `; clientAssertionFile ${path} holds a JWT that expired at .* \\(60 s ago by this machine's clock\\); whatever writes the file has stopped rotating it, or this machine's clock is ahead$`,
        ),
      );
      for (const part of jwt.split('.')) assert.ok(!err.message.includes(part));
      return true;
    });
    assert.deepEqual(sentAssertions(raw), [jwt], 'sent once: the token server is the judge of its expiry');
  });

  it('recovers from an expired file once the platform rotates it', async (t) => {
    const clock = createClock();
    const { server, cluster } = await federatedServer(t, clock);
    const path = join(await tempDir(t), 'token');
    await cluster.writeTokenFile(path, { subject, audience: server.tokenEndpoint, lifetimeSec: -1 });
    const tokens = manager(t, { tokenEndpoint: server.tokenEndpoint, clientAssertionFile: path, clock });
    await assert.rejects(tokens.getToken(), { code: 'invalid_client' });

    await writeTokenFile(path, await cluster.sign({ subject, audience: server.tokenEndpoint }));
    tokens.invalidate();
    assert.equal((await server.verifyAccessToken((await tokens.getToken()).accessToken)).client_id, 'workload-client');
  });
});

describe('client assertions from a function (clientAssertion)', () => {
  it('calls the function for every token request and sends what it returns', async (t) => {
    const raw = await recordingServer(t);
    const cluster = await MockWorkloadIssuer.create({ issuer: 'https://token.actions.example.test' });
    const returned: string[] = [];
    const clientAssertion = async (): Promise<string> => {
      returned.push(await cluster.sign({ subject: 'repo:shop/orders:ref:refs/heads/main', audience: 'sts' }));
      return returned.at(-1)!;
    };
    const tokens = manager(t, { tokenEndpoint: `${raw.url}/token`, clientAssertion });
    await tokens.getToken();
    tokens.invalidate();
    await tokens.getToken();
    assert.equal(returned.length, 2);
    assert.deepEqual(sentAssertions(raw), returned);
  });

  it("gets a token with a fresh JWT that looks expired only because this machine's clock is ahead", async (t) => {
    const clock = createClock();
    // The platform and the token server keep true time; this machine's wall clock is 15 minutes ahead.
    const trueTime = { now: () => clock.monotonicNow() };
    const server = await startTokenServer(t, { clock: trueTime });
    const ci = await MockWorkloadIssuer.create({ issuer: 'https://token.actions.example.test', clock: trueTime });
    server.addClient({
      clientId: 'workload-client',
      federatedCredential: { issuer: ci.issuer, subject, publicKey: ci.publicJwk },
    });
    clock.stepWallClock(15 * 60_000);
    const clientAssertion = (): Promise<string> =>
      ci.sign({ subject, audience: server.tokenEndpoint, lifetimeSec: 600 });
    const tokens = manager(t, { tokenEndpoint: server.tokenEndpoint, clientAssertion, clock });
    const claims = await server.verifyAccessToken((await tokens.getToken()).accessToken);
    assert.equal(claims.client_id, 'workload-client');
  });

  it('turns a throwing function into a retryable error without its message', async (t) => {
    const raw = await recordingServer(t);
    const tokens = manager(t, {
      tokenEndpoint: `${raw.url}/token`,
      clientAssertion: () => {
        throw new Error('could not fetch eyJhbGciOi.secret-part');
      },
    });
    await assert.rejects(tokens.getToken(), (err: unknown) => {
      assert.ok(err instanceof TokenError);
      assert.equal(err.retryable, true);
      assert.equal(err.message, 'clientAssertion failed with Error (message withheld)');
      return true;
    });
    assert.equal(raw.requests.length, 0);
  });
});

describe('client assertion options', () => {
  const base = { tokenEndpoint: 'https://auth.example.test/token', clientId: 'c' };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'a file and a secret',
      { clientAssertionFile: '/f', clientSecret: 's3cr3t' },
      /^give only one credential, not clientSecret and clientAssertionFile$/,
    ],
    [
      'a file and a function',
      { clientAssertionFile: '/f', clientAssertion: () => 'x' },
      /^give only one credential, not clientAssertionFile and clientAssertion$/,
    ],
    [
      'a function that is a string',
      { clientAssertion: 'eyJ-not-a-function' },
      /^clientAssertion must be a function returning the token$/,
    ],
    ['an empty path', { clientAssertionFile: '' }, /^clientAssertionFile must be a non-empty string/],
    [
      'an auth method',
      { clientAssertionFile: '/f', clientAuthMethod: 'private_key_jwt' },
      /^clientAuthMethod does not apply to a client assertion; leave it out$/,
    ],
    [
      'a misspelt name',
      { clientAsertionFile: '/f' },
      /^unknown TokenManager option "clientAsertionFile"; did you mean "clientAssertionFile"\?$/,
    ],
  ];
  for (const [what, options, message] of cases) {
    it(`refuses ${what} at construction`, () => {
      assert.throws(
        () => new TokenManager({ ...base, ...options }),
        (err: Error) => {
          invalidOption(message)(err);
          assert.ok(!err.message.includes('eyJ') && !err.message.includes('s3cr3t'));
          return true;
        },
      );
    });
  }
});
