// `grpc-oauth2 verify` as a child process against a real MockTokenServer: it verifies with the
// server's own core and says what a server would, and never prints the token.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createTestCertificates, type MockTokenServer } from '../../src/testing/index.js';
import type { ChildResult } from '../helpers/child-process.js';
import { bundledCli } from '../helpers/cli-bundle.js';
import { runtimePackages } from '../helpers/runtime-packages.js';
import { clientId, clientSecret, startTokenServer } from '../helpers/token-fixtures.js';
import { startKeyServer } from '../server/fixture.js';

const { run: grpcOauth2 } = bundledCli('verify');
const audience = 'https://orders.example.test';

/** A token of `server` for the test client, asked for directly (client_secret_basic), as any client would. */
async function issue(
  server: MockTokenServer,
  { scope = 'orders.read', audience: aud = audience }: { scope?: string; audience?: string } = {},
): Promise<string> {
  const response = await fetch(server.tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, audience: aud }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** `verify` against `issuer` for `audience`, over http on loopback. */
function verifyArgs(issuer: string, ...extra: string[]): string[] {
  return ['verify', '--issuer', issuer, '--audience', audience, '--allow-insecure-requests', ...extra];
}

/** Fails if anything printed holds `token` or a part of it, in any of the encodings it travels in. */
function assertNoToken({ stdout, stderr }: ChildResult, token: string): void {
  const printed = stdout + stderr;
  const forms = [
    token,
    ...token.split('.').filter((part) => part.length >= 8),
    Buffer.from(token).toString('base64'),
    Buffer.from(token).toString('base64url'),
    Buffer.from(token).toString('hex'),
    encodeURIComponent(token),
    JSON.stringify(token),
  ];
  for (const form of forms) assert.ok(!printed.includes(form), 'the token is never printed, in any encoding');
  assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+/.test(printed), 'nothing JWT-like is printed');
  assert.ok(!printed.includes(clientSecret), 'no secret');
}

/** A policy file in a temporary folder (removed after the test). */
function policyFile(t: TestContext, policy: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'policy.json');
  writeFileSync(path, typeof policy === 'string' ? policy : JSON.stringify(policy));
  return path;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** `verify --json` for an allowed token, but for its issuer, subject and claims. */
const allowedReport = {
  allowed: true,
  method: null,
  status: 'OK',
  code: 0,
  reason: 'granted',
  details: '',
  internalDetails: '',
  scopes: [],
  issuer: null,
  subject: null,
  claims: null,
  unverified: null,
};

const ordersPolicy = {
  methods: {
    '/orders.v1.Orders/GetOrder': ['orders.read'],
    '/orders.v1.Orders/PlaceOrder': ['orders.write'],
  },
};

describe('grpc-oauth2 verify (the CLI, as a child process)', { concurrency: 2 }, () => {
  it("verifies with the server's own modules, and loads no @grpc/grpc-js", () => {
    const packages = runtimePackages('cli/verify-command.ts');
    assert.ok(packages.has('jose'), 'the walk reaches the server core');
    assert.ok(!packages.has('@grpc/grpc-js'), [...packages].join(', '));
  });

  it('--help says how to give the token without putting it in shell history, and exits 0', async (t) => {
    const result = await grpcOauth2(t, ['verify', '--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: grpc-oauth2 verify \[TOKEN \| -\] --issuer URL --audience AUD/);
    assert.match(result.stdout, /shell history/);
    assert.match(result.stdout, /Exit codes: 0 /);
  });

  it('a valid token, from stdin or the argument: exit 0, the issuer that verified it and its verified claims', async (t) => {
    const server = await startTokenServer(t);
    const token = await issue(server, { scope: 'orders.read orders.write' });
    const [fromStdin, fromDash, fromArgument] = await Promise.all([
      grpcOauth2(t, verifyArgs(server.issuer), { input: `${token}\n` }),
      grpcOauth2(t, verifyArgs(server.issuer, '-'), { input: `Bearer ${token}` }),
      grpcOauth2(t, verifyArgs(server.issuer, token)),
    ]);
    for (const result of [fromStdin, fromDash, fromArgument]) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, new RegExp(`^verified: the token is valid for issuer ${server.issuer}\n`));
      assert.match(result.stdout, /\nexpires: \S+Z \(in (?:1 h 0 s|59 min \d\d? s)\)\n/);
      const claims = JSON.parse(result.stdout.slice(result.stdout.indexOf('claims:\n') + 8)) as Record<string, unknown>;
      assert.equal(claims.sub, clientId);
      assert.equal(claims.iss, server.issuer);
      assert.equal(claims.aud, audience);
      assert.equal(claims.scope, 'orders.read orders.write');
      assertNoToken(result, token);
    }
  });

  it('--json: the decision as onDecision would get it, with the verified claims', async (t) => {
    const server = await startTokenServer(t);
    const token = await issue(server);
    const result = await grpcOauth2(t, verifyArgs(server.issuer, '--json'), { input: token });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual(
      { ...report, claims: undefined },
      { ...allowedReport, issuer: server.issuer, subject: clientId, claims: undefined },
    );
    assert.equal((report.claims as { sub: string }).sub, clientId);
    assertNoToken(result, token);
  });

  const refusals: {
    name: string;
    token: (t: TestContext, server: MockTokenServer) => Promise<string>;
    args?: string[];
    refusal: RegExp;
  }[] = [
    {
      name: 'an expired token',
      token: async (_t, server) => {
        server.failNext(1, { type: 'token', jwtLifetimeSec: -3600 });
        return issue(server);
      },
      refusal: /^refused: UNAUTHENTICATED token_expired: bearer token expired\n/,
    },
    {
      name: 'a token for another audience',
      token: (_t, server) => issue(server, { audience: 'https://billing.example.test' }),
      refusal: /^refused: UNAUTHENTICATED wrong_audience: bearer token audience is not this server\n/,
    },
    {
      name: 'a token of another issuer',
      token: async (t) => issue(await startTokenServer(t)),
      refusal: /^refused: UNAUTHENTICATED unknown_issuer: bearer token from an issuer this server does not accept\n/,
    },
    {
      name: 'a token whose signature is not its own',
      token: async (_t, server) => {
        const [header, payload] = (await issue(server)).split('.');
        const signature = (await issue(server, { scope: 'orders.write' })).split('.')[2];
        return `${header}.${payload}.${signature}`;
      },
      refusal: /^refused: UNAUTHENTICATED bad_signature: bearer token signature does not verify\n/,
    },
    {
      name: 'a token signed with an algorithm --algorithm does not name',
      token: (_t, server) => issue(server),
      args: ['--algorithm', 'ES256', '--algorithm', 'PS256'],
      refusal:
        /^refused: UNAUTHENTICATED algorithm_not_allowed: bearer token signed with an algorithm this server does not accept\n/,
    },
    {
      name: 'something that is not a JWT (an opaque token)',
      token: () => Promise.resolve('opaque-token-value-4711'),
      refusal:
        /^refused: UNAUTHENTICATED malformed_token: bearer token is not a signed JWT\ninternal details: bearer token is not a signed JWT, and no issuer introspects opaque tokens/,
    },
    {
      name: 'three parts that are not a JWT',
      token: () => Promise.resolve('bm90.anNvbg.c2ln'),
      refusal: /^refused: UNAUTHENTICATED malformed_token: bearer token is not a valid JWT\n/,
    },
  ];
  for (const { name, token: make, args = [], refusal } of refusals) {
    it(`${name}: exit 1 and the reason in the server's words`, async (t) => {
      const server = await startTokenServer(t);
      const token = await make(t, server);
      const result = await grpcOauth2(t, verifyArgs(server.issuer, ...args), { input: token });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stdout, refusal);
      assert.equal(result.stderr, '');
      assertNoToken(result, token);
    });
  }

  it("a refused JWT: what was expected, and the token's claims decoded and marked NOT verified", async (t) => {
    const server = await startTokenServer(t);
    const token = await issue(server, { audience: 'https://billing.example.test' });
    const [text, json] = await Promise.all([
      grpcOauth2(t, verifyArgs(server.issuer), { input: token }),
      grpcOauth2(t, verifyArgs(server.issuer, '--json'), { input: token }),
    ]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, new RegExp(`\nexpected: issuer ${server.issuer}, audience ${audience}\n`));
    assert.match(text.stdout, /\nsignature {2}NOT VERIFIED: decoded only/);
    assert.match(text.stdout, /\n {2}aud +https:\/\/billing\.example\.test\n/);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    const details = 'bearer token audience is not this server';
    assert.deepEqual(
      { ...report, unverified: undefined },
      {
        ...allowedReport,
        ...{ allowed: false, status: 'UNAUTHENTICATED', code: 16, reason: 'wrong_audience' },
        ...{ details, internalDetails: details, unverified: undefined },
      },
    );
    const unverified = report.unverified as { signatureVerified: boolean; claims: { aud: string } };
    assert.equal(unverified.signatureVerified, false);
    assert.equal(unverified.claims.aud, 'https://billing.example.test');
    for (const result of [text, json]) assertNoToken(result, token);
  });

  it('--clock-tolerance: a token expired 60 s ago is refused with the default 30 s and accepted with 120', async (t) => {
    const server = await startTokenServer(t);
    server.failNext(1, { type: 'token', jwtLifetimeSec: -60 });
    const token = await issue(server);
    const [strict, lenient] = await Promise.all([
      grpcOauth2(t, verifyArgs(server.issuer), { input: token }),
      grpcOauth2(t, verifyArgs(server.issuer, '--clock-tolerance', '120'), { input: token }),
    ]);
    assert.equal(strict.code, 1);
    assert.match(strict.stdout, /^refused: UNAUTHENTICATED token_expired/);
    assert.equal(lenient.code, 0, lenient.stdout);
    assert.match(lenient.stdout, /\nexpires: \S+Z \(1 min \d s ago\)\n/);
  });

  it('--require-at-jwt: a token typed JWT rather than at+jwt is refused wrong_token_type, and accepted without it', async (t) => {
    const keys = await startKeyServer(t);
    const token = await keys.sign({ aud: audience }, { header: { typ: 'JWT' } });
    const [required, notRequired] = await Promise.all([
      grpcOauth2(t, verifyArgs(keys.issuer, '--require-at-jwt'), { input: token }),
      grpcOauth2(t, verifyArgs(keys.issuer), { input: token }),
    ]);
    assert.equal(required.code, 1);
    assert.match(required.stdout, /^refused: UNAUTHENTICATED wrong_token_type: bearer token type is not at\+jwt\n/);
    assert.equal(notRequired.code, 0, notRequired.stdout);
  });

  it('--client-certificate: a certificate-bound token passes with its certificate, certificate_mismatch without or with another', async (t) => {
    const keys = await startKeyServer(t);
    const certs = await createTestCertificates();
    const [mine, other] = await Promise.all([certs.issueClientCertificate(), certs.issueClientCertificate()]);
    const dir = mkdtempSync(join(tmpdir(), 'verify-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'mine.pem'), mine.cert);
    writeFileSync(join(dir, 'other.pem'), other.cert);
    writeFileSync(join(dir, 'empty.pem'), '');
    const token = await keys.sign({ aud: audience, cnf: { 'x5t#S256': mine.sha256 } });
    const [own, foreign, none, empty] = await Promise.all([
      grpcOauth2(t, verifyArgs(keys.issuer, '--client-certificate', join(dir, 'mine.pem')), { input: token }),
      grpcOauth2(t, verifyArgs(keys.issuer, '--client-certificate', join(dir, 'other.pem')), { input: token }),
      grpcOauth2(t, verifyArgs(keys.issuer), { input: token }),
      grpcOauth2(t, verifyArgs(keys.issuer, '--client-certificate', join(dir, 'empty.pem')), { input: token }),
    ]);
    assert.equal(own.code, 0, own.stdout);
    for (const refused of [foreign, none]) {
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /^refused: UNAUTHENTICATED certificate_mismatch: /);
    }
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--client-certificate .*empty\.pem holds no PEM certificate/);
  });

  it('--method with --policy: allowed when the scopes fit, PERMISSION_DENIED naming the missing scope when not', async (t) => {
    const server = await startTokenServer(t);
    const token = await issue(server, { scope: 'orders.read' });
    const policy = policyFile(t, ordersPolicy);
    const [allowed, denied, unnamed] = await Promise.all([
      grpcOauth2(t, verifyArgs(server.issuer, '--policy', policy, '--method', '/orders.v1.Orders/GetOrder'), {
        input: token,
      }),
      grpcOauth2(t, verifyArgs(server.issuer, '--policy', policy, '--method', '/orders.v1.Orders/PlaceOrder'), {
        input: token,
      }),
      grpcOauth2(t, verifyArgs(server.issuer, '--policy', policy, '--method', '/orders.v1.Orders/CancelOrder'), {
        input: token,
      }),
    ]);
    assert.equal(allowed.code, 0, allowed.stdout);
    assert.match(allowed.stdout, new RegExp(`^verified: the token is valid for issuer ${server.issuer}\n`));
    assert.match(allowed.stdout, /\nallowed: \/orders\.v1\.Orders\/GetOrder\n/);
    assert.equal(denied.code, 1);
    assert.match(denied.stdout, /^refused: PERMISSION_DENIED missing_scope: missing scope orders\.write\n/);
    assert.match(
      denied.stdout,
      /\nthe token itself is valid for issuer http:\/\/127\.0\.0\.1:\d+; the policy refuses it\n/,
    );
    assert.match(denied.stdout, /\n {2}"scope": "orders\.read",\n/);
    assert.equal(unnamed.code, 1);
    assert.match(
      unnamed.stdout,
      /^refused: PERMISSION_DENIED method_not_in_policy: method \/orders\.v1\.Orders\/CancelOrder is not in the server's policy\n/,
    );
    for (const result of [allowed, denied, unnamed]) assertNoToken(result, token);
  });

  it('--method of a public method: allowed without looking at the token, as the server does', async (t) => {
    const server = await startTokenServer(t);
    const policy = policyFile(t, { ...ordersPolicy, publicMethods: ['/grpc.health.v1.Health/Check'] });
    const token = 'opaque-token-value-4711';
    const args = verifyArgs(server.issuer, '--policy', policy, '--method', '/grpc.health.v1.Health/Check');
    const result = await grpcOauth2(t, args, { input: token });
    assert.equal(result.code, 0, result.stdout);
    assert.match(
      result.stdout,
      /^allowed: \/grpc\.health\.v1\.Health\/Check is public: the server lets every call through without looking at the token \(not checked\)\n$/,
    );
    assertNoToken(result, token);
  });

  it('the JWKS down: exit 1, UNAVAILABLE keys_unavailable, and the URL that failed in the internal details', async (t) => {
    const server = await startTokenServer(t);
    const token = await issue(server);
    const port = await closedPort();
    const result = await grpcOauth2(t, verifyArgs(server.issuer, '--jwks-uri', `http://127.0.0.1:${port}/jwks`), {
      input: token,
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stdout,
      /^refused: UNAVAILABLE keys_unavailable: the server's signing keys are unavailable; try again later\n/,
    );
    assert.match(
      result.stdout,
      new RegExp(
        `\ninternal details: signing keys unavailable: JWKS http://127\\.0\\.0\\.1:${port}/jwks failed \\(\\w+\\)\n`,
      ),
    );
    assertNoToken(result, token);
  });

  it('the issuer down: exit 1, keys_unavailable, naming the discovery document that could not be fetched', async (t) => {
    const server = await startTokenServer(t);
    const token = await issue(server);
    await server.close();
    const result = await grpcOauth2(t, verifyArgs(server.issuer), { input: token });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^refused: UNAVAILABLE keys_unavailable: /);
    assert.match(
      result.stdout,
      new RegExp(
        `\ninternal details: signing keys unavailable: discovery document ${server.issuer}/\\.well-known/oauth-authorization-server could not be fetched`,
      ),
    );
    assertNoToken(result, token);
  });

  it('usage errors exit 2 with the usage, echoing no token', async (t) => {
    const server = await startTokenServer(t);
    const token = await issue(server);
    const issuer = server.issuer;
    const cases: { args: string[]; input?: string; message: RegExp }[] = [
      { args: ['verify', '--audience', audience], message: /^grpc-oauth2 verify: give --issuer URL/ },
      { args: ['verify', '--issuer', issuer], message: /^grpc-oauth2 verify: give --audience AUD/ },
      {
        args: ['verify', '--issuer', issuer, '--audience', audience, token],
        message:
          /^grpc-oauth2 verify: issuer is http:\/\/: .*allowInsecureRequests: true for local tests \(each flag sets the server option named beside it below\)\n/,
      },
      { args: verifyArgs(issuer, `--token=${token}`), message: /^grpc-oauth2 verify: --token is not accepted/ },
      { args: verifyArgs(issuer, '--audiance', audience), message: /did you mean "--audience"\?/ },
      { args: verifyArgs(issuer, token, token), message: /this command takes at most 1 argument/ },
      { args: verifyArgs(issuer), input: '  \n', message: /give the token as the argument, or on stdin/ },
      { args: verifyArgs(issuer, '--clock-tolerance', 'soon'), message: /--clock-tolerance must be a number/ },
      { args: verifyArgs(issuer, '--clock-tolerance', '7200'), message: /clockToleranceSec must be a number from 0/ },
      { args: verifyArgs(issuer, '--algorithm', 'HS256'), message: /algorithms: algorithm "HS256" is not accepted/ },
      { args: verifyArgs(issuer, '--method', '/orders.v1.Orders/GetOrder'), message: /--method needs --policy/ },
      { args: verifyArgs(issuer, '--policy', '/nonexistent/policy.json'), message: /--policy needs --method/ },
      {
        args: verifyArgs(issuer, '--policy', policyFile(t, ordersPolicy), '--method', 'GetOrder'),
        message: /--method must be a full method path like \/package\.Service\/Method/,
      },
      {
        args: verifyArgs(issuer, '--policy', '/nonexistent/policy.json', '--method', '/orders.v1.Orders/GetOrder'),
        message: /--policy: the file could not be read \(ENOENT\)/,
      },
      {
        args: verifyArgs(issuer, '--policy', policyFile(t, '{"methods":'), '--method', '/orders.v1.Orders/GetOrder'),
        message: /--policy: the file is not JSON/,
      },
      {
        args: verifyArgs(issuer, '--policy', policyFile(t, { method: {} }), '--method', '/orders.v1.Orders/GetOrder'),
        message: /--policy: unknown policy file key "method"; did you mean "methods"\?/,
      },
      {
        args: verifyArgs(
          issuer,
          '--policy',
          policyFile(t, { methods: { '/orders.v1.Orders/GetOrder': 'orders.read' } }),
          '--method',
          '/orders.v1.Orders/GetOrder',
        ),
        message:
          /--policy: the policy file: methods\["\/orders\.v1\.Orders\/GetOrder"\] must be an array of scopes or \{ anyOf: \[\.\.\.\] \}/,
      },
    ];
    const results = await Promise.all(cases.map(({ args, input = token }) => grpcOauth2(t, args, { input })));
    results.forEach((result, index) => {
      const { message } = cases[index]!;
      assert.equal(result.code, 2, `${String(message)}: ${result.stdout}${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, message);
      assert.match(result.stderr, /\n\nUsage: grpc-oauth2 verify /);
      assertNoToken(result, token);
    });
  });
});
