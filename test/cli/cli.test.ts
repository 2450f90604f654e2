import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { TokenManager } from '../../src/index.js';
import { startChild, type ChildResult } from '../helpers/child-process.js';
import { bundledCli } from '../helpers/cli-bundle.js';
import { clientId, clientSecret, startTokenServer, until } from '../helpers/token-fixtures.js';

const { path: cli, run: grpcOauth2 } = bundledCli('cli');
const jwtLike = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;

/** The OAUTH2_* settings for the test client of `server`. */
function envFor(server: { issuer: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OAUTH2_ISSUER: server.issuer,
    OAUTH2_CLIENT_ID: clientId,
    OAUTH2_CLIENT_SECRET: clientSecret,
    OAUTH2_ALLOW_INSECURE_REQUESTS: 'true',
    ...extra,
  };
}

/** Fails if anything the CLI printed holds the secret (in the encodings it travels in) or, unless allowed, a JWT. */
function assertClean({ stdout, stderr }: ChildResult, { secrets = [clientSecret], tokensAllowed = false } = {}): void {
  const printed = stdout + stderr;
  for (const secret of secrets) {
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(`${clientId}:${secret}`).toString('base64')])
      assert.ok(!printed.includes(form), 'no secret printed');
  }
  if (!tokensAllowed) assert.ok(!jwtLike.test(printed), 'no token printed');
}

describe('grpc-oauth2 (the CLI, as a child process)', { concurrency: 2 }, () => {
  it('prints help for the tool and for every command with --help, and exits 0', async (t) => {
    const results = await Promise.all(
      [[], ['token'], ['inspect'], ['verify'], ['mock-server']].map((command) => grpcOauth2(t, [...command, '--help'])),
    );
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Usage: grpc-oauth2 /);
      assert.match(result.stdout, /Exit codes: 0/);
    }
  });

  it('token: fetches a token and prints its expiry, scopes and decoded claims with the token redacted; NODE_DEBUG lines are redacted too', async (t) => {
    const server = await startTokenServer(t);
    const result = await grpcOauth2(t, ['token', '--scopes', 'orders.read orders.write'], {
      env: { ...envFor(server), NODE_DEBUG: 'grpc-oauth2' },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^token {6}Bearer \[redacted: \d+ chars\] \(--print-token prints it\)\n/);
    assert.match(result.stdout, /\nexpires {4}\S+Z \(in (?:1 h 0 s|59 min \d\d? s)\)\n/);
    assert.match(result.stdout, /\nscopes {5}orders\.read orders\.write\n/);
    assert.match(result.stdout, /\nsignature {2}NOT VERIFIED/);
    assert.match(result.stdout, new RegExp(`\n  sub +${clientId}\n`));
    assert.match(result.stderr, /GRPC-OAUTH2 \d+: token request 1 sent to/);
    assertClean(result);
  });

  it('token --json: the same report as JSON, the token redacted, the secret read from --client-secret-file', async (t) => {
    const server = await startTokenServer(t);
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'secret'), clientSecret);
    const env = envFor(server);
    delete env.OAUTH2_CLIENT_SECRET;
    const result = await grpcOauth2(t, ['token', '--json', '--client-secret-file', join(dir, 'secret')], { env });
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      accessToken: string;
      expiresInSeconds: number;
      jwt: { signatureVerified: boolean; claims: { sub: string } };
    };
    assert.equal(report.accessToken, '[redacted]');
    assert.ok(report.expiresInSeconds > 3590);
    assert.equal(report.jwt.signatureVerified, false);
    assert.equal(report.jwt.claims.sub, clientId);
    assertClean(result);
  });

  it('token --print-token: prints only the token, which the server issued', async (t) => {
    const server = await startTokenServer(t);
    const result = await grpcOauth2(t, ['token', '--print-token'], { env: envFor(server) });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    assert.equal((await server.verifyAccessToken(result.stdout.trim())).sub, clientId);
    assert.equal(result.stderr, '');
    assertClean(result, { tokensAllowed: true });
  });

  it('token: exits 1 naming the OAuth error when the token endpoint refuses the client', async (t) => {
    const server = await startTokenServer(t);
    const result = await grpcOauth2(t, ['token'], {
      env: envFor(server, { OAUTH2_CLIENT_SECRET: 'a-wrong-secret-value' }),
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^grpc-oauth2 token: no token \(invalid_client\): token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth2\/token answered HTTP 401 invalid_client/,
    );
    assertClean(result, { secrets: [clientSecret, 'a-wrong-secret-value'] });
  });

  it('token: exits 2 for a missing setting, a secret given as a flag, an unknown flag and a stray argument, echoing no value', async (t) => {
    const server = await startTokenServer(t);
    const env = envFor(server);
    const [missing, secretFlag, unknown, stray] = await Promise.all([
      grpcOauth2(t, ['token'], { env: { ...env, OAUTH2_CLIENT_ID: '' } }),
      grpcOauth2(t, ['token', `--client-secret=${clientSecret}`], { env }),
      grpcOauth2(t, ['token', '--scope', 'orders.read'], { env }),
      grpcOauth2(t, ['token', clientSecret], { env }),
    ]);
    for (const result of [missing, secretFlag, unknown, stray]) {
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, '');
      assertClean(result);
    }
    assert.match(missing.stderr, /^grpc-oauth2 token: set OAUTH2_CLIENT_ID\n/);
    assert.match(
      secretFlag.stderr,
      /^grpc-oauth2 token: --client-secret is not accepted: a secret on the command line shows in ps/,
    );
    assert.match(unknown.stderr, /^grpc-oauth2 token: Unknown option '--scope'/);
    assert.match(stray.stderr, /^grpc-oauth2 token: this command takes no arguments besides flags\n/);
  });

  it('inspect: decodes a JWT from stdin or the argument, says it did not verify it, and never prints the token', async (t) => {
    const server = await startTokenServer(t);
    const tokens = new TokenManager({
      issuer: server.issuer,
      clientId,
      clientSecret,
      allowInsecureRequests: true,
      scopes: ['orders.read'],
    });
    t.after(() => tokens.close());
    const { accessToken } = await tokens.getToken();
    const [fromStdin, fromArgument, asJson] = await Promise.all([
      grpcOauth2(t, ['inspect'], { input: `Bearer ${accessToken}\n` }),
      grpcOauth2(t, ['inspect', accessToken]),
      grpcOauth2(t, ['inspect', '-', '--json'], { input: accessToken }),
    ]);
    for (const result of [fromStdin, fromArgument]) {
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^signature {2}NOT VERIFIED: decoded only/);
      assert.match(result.stdout, /\n {2}alg +RS256\n/);
      assert.match(result.stdout, /\n {2}scope +orders\.read\n/);
      assert.match(result.stdout, /\n {2}exp +\S+Z \(in (?:1 h 0 s|59 min \d\d? s)\)\n/);
      assert.match(result.stdout, /\n {2}iat +\S+Z \((?:\d+ s ago|now)\)\n/);
    }
    const report = JSON.parse(asJson.stdout) as {
      signatureVerified: boolean;
      times: { exp: { secondsFromNow: number } };
      scopes: string[];
    };
    assert.equal(report.signatureVerified, false);
    assert.ok(report.times.exp.secondsFromNow > 3590);
    assert.deepEqual(report.scopes, ['orders.read']);
    const signature = accessToken.split('.')[2] ?? '';
    for (const result of [fromStdin, fromArgument, asJson]) {
      assert.ok(
        !result.stdout.includes(accessToken) && !result.stdout.includes(signature),
        'neither the token nor its signature',
      );
      assertClean(result);
    }
  });

  it('inspect: shows a time claim too large or small for a date (exp 9e15, iat -1e300) as it is, and exits 0', async (t) => {
    const part = (json: string): string => Buffer.from(json).toString('base64url');
    const jwt = `${part('{"alg":"RS256","typ":"JWT"}')}.${part('{"sub":"far-future","exp":9e15,"iat":-1e300,"nbf":1e400}')}.c2ln`;
    const [text, json] = await Promise.all([
      grpcOauth2(t, ['inspect'], { input: jwt }),
      grpcOauth2(t, ['inspect', '--json'], { input: jwt }),
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stderr, '');
    assert.match(text.stdout, /\n {2}sub +far-future\n/);
    assert.match(text.stdout, /\n {2}exp +9000000000000000 \(out of range for a date\)\n/);
    assert.match(text.stdout, /\n {2}iat +-1e\+300 \(out of range for a date\)\n/);
    assert.match(text.stdout, /\n {2}nbf +Infinity \(out of range for a date\)\n/);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { claims: Record<string, unknown>; times: Record<string, unknown> };
    assert.equal(report.claims.exp, 9e15);
    assert.equal(report.claims.iat, -1e300);
    assert.deepEqual(report.times, {});
  });

  it('inspect: exits 1 for something that is not a JWT and 2 for a bad flag', async (t) => {
    const [opaque, badFlag] = await Promise.all([
      grpcOauth2(t, ['inspect'], { input: 'opaque-token-value' }),
      grpcOauth2(t, ['inspect', '--verify']),
    ]);
    assert.equal(opaque.code, 1);
    assert.match(opaque.stderr, /^grpc-oauth2 inspect: not a JWT/);
    assert.ok(!opaque.stderr.includes('opaque-token-value'));
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /^grpc-oauth2 inspect: Unknown option '--verify'/);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`mock-server: prints its issuer URL, issues tokens to its --client, and stops cleanly on ${signal}`, async (t) => {
      const child = startChild(
        t,
        cli,
        ['mock-server', '--client', 'cli-svc:cli-test-secret-1:orders.read', '--lifetime', '120'],
        { tsx: false },
      );
      await until(() => child.stdout().includes('serving until'), 10_000);
      const issuer = /^issuer +(\S+)$/m.exec(child.stdout())?.[1] ?? '';
      assert.match(issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
      const tokens = new TokenManager({
        issuer,
        clientId: 'cli-svc',
        clientSecret: 'cli-test-secret-1',
        allowInsecureRequests: true,
        scopes: ['orders.read'],
      });
      t.after(() => tokens.close());
      const token = await tokens.getToken();
      assert.ok(token.expiresAt.getTime() - Date.now() <= 120_000);
      child.process.kill(signal);
      const result = await child.result;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /grpc-oauth2 mock-server: stopped\n$/);
      assertClean(result, { secrets: ['cli-test-secret-1'] });
    });
  }

  it('mock-server: --audience sets the aud of the tokens it issues, and is printed', async (t) => {
    const child = startChild(
      t,
      cli,
      ['mock-server', '--client', 'cli-svc:cli-test-secret-2:orders.read', '--audience', 'https://orders.example.com'],
      { tsx: false },
    );
    await until(() => child.stdout().includes('serving until'), 10_000);
    assert.match(child.stdout(), /^audience +https:\/\/orders\.example\.com$/m);
    const issuer = /^issuer +(\S+)$/m.exec(child.stdout())?.[1] ?? '';
    const tokens = new TokenManager({
      issuer,
      clientId: 'cli-svc',
      clientSecret: 'cli-test-secret-2',
      allowInsecureRequests: true,
      scopes: ['orders.read'],
    });
    t.after(() => tokens.close());
    const { accessToken } = await tokens.getToken();
    assert.equal(decodeJwt(accessToken).aud, 'https://orders.example.com');
    child.process.kill('SIGTERM');
    assert.equal((await child.result).code, 0);
  });

  it('mock-server: exits 2 for an empty --audience', async (t) => {
    const result = await grpcOauth2(t, ['mock-server', '--client', 'a:b', '--audience', '']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^grpc-oauth2 mock-server: --audience must not be empty\n/);
  });

  it('suggests the command or flag a typo meant (tokn, --audiance, --scope), echoing no value', async (t) => {
    const [command, mockFlag, tokenFlag] = await Promise.all([
      grpcOauth2(t, ['tokn']),
      grpcOauth2(t, ['mock-server', '--client', 'a:b', '--audiance=https://orders.example.com']),
      grpcOauth2(t, ['token', '--scope', 'orders.read'], { env: { OAUTH2_CLIENT_ID: clientId } }),
    ]);
    for (const result of [command, mockFlag, tokenFlag]) assert.equal(result.code, 2, result.stderr);
    assert.match(
      command.stderr,
      /^grpc-oauth2: unknown command \(token, inspect, verify, mock-server\); did you mean "token"\?\n/,
    );
    assert.match(
      mockFlag.stderr,
      /^grpc-oauth2 mock-server: Unknown option '--audiance'.*; did you mean "--audience"\?\n/,
    );
    assert.ok(!mockFlag.stderr.includes('orders.example.com'), 'the value is not echoed');
    assert.match(tokenFlag.stderr, /^grpc-oauth2 token: Unknown option '--scope'.*; did you mean "--scopes"\?\n/);
  });

  it('mock-server: exits 2 without a --client and 1 when its --port is taken', async (t) => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    t.after(() => taken.close());
    const port = String((taken.address() as { port: number }).port);
    const [noClient, portTaken] = await Promise.all([
      grpcOauth2(t, ['mock-server']),
      grpcOauth2(t, ['mock-server', '--client', 'a:b', '--port', port, '--json']),
    ]);
    assert.equal(noClient.code, 2);
    assert.match(noClient.stderr, /^grpc-oauth2 mock-server: give at least one --client/);
    assert.equal(portTaken.code, 1);
    assert.match(
      portTaken.stderr,
      new RegExp(`^grpc-oauth2 mock-server: could not listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`),
    );
  });

  it('mock-server: exits 2 for a --client whose scope has a ":" in it, rather than cutting it short', async (t) => {
    const result = await grpcOauth2(t, ['mock-server', '--client', 'a:b:api://orders/read']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--client must be ID:SECRET or ID:SECRET:SCOPE,SCOPE, with no ":" inside/);
  });

  it('exits 2 for an unknown command or none', async (t) => {
    const [unknown, none] = await Promise.all([grpcOauth2(t, ['tokens']), grpcOauth2(t, [])]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^grpc-oauth2: unknown command \(token, inspect, verify, mock-server\)/);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /^grpc-oauth2: give a command/);
  });
});
