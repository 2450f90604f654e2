import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it, type TestContext } from 'node:test';
import { exportJWK, importPKCS8 } from 'jose';
import { createChannelCredentials, diagnosticsChannels, TokenError, TokenManager } from '../../src/index.js';
import type { TokenManagerOptions } from '../../src/index.js';
import {
  MockTokenServer,
  MockWorkloadIssuer,
  createTestCertificates,
  writeCertificateFiles,
  writeTokenFile,
} from '../../src/testing/index.js';
import { startGrpcFixture, unary, type GrpcFixture } from '../helpers/grpc-fixture.js';
import {
  echoingChallenge,
  echoOf,
  startRawTokenServer,
  type RawAnswer,
  type RawRequest,
  type RawTokenServer,
} from '../helpers/raw-token-server.js';

// The values no output may ever contain. The secret holds every character that the encodings
// differ on: formUrlEncode escapes -_.!~*'() where encodeURIComponent does not, + / = are base64's
// own, and a space becomes + or %20.
const clientId = 'leak-client.id_(1)';
const clientSecret = "Leak-Scan_Secret.9f!8e~7d*6c'5b(4a)+/= 0x";
const knownToken = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJsZWFrIn0.known-token-value-1234567890';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pemBody = privatePem.split('\n').filter((line) => line && !line.startsWith('-----'));

/**
 * The Basic credential exactly as openid-client 6 sends it: oauth4webapi's formUrlEncode of the id
 * and of the secret (encodeURIComponent, then each of -_.!~*'() as %XX, %20 as +), joined by a
 * colon, base64. Written out here, not taken from src/, so the scan checks what goes on the wire.
 */
function openidClientFormUrlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}
const basicCredential = Buffer.from(
  `${openidClientFormUrlEncode(clientId)}:${openidClientFormUrlEncode(clientSecret)}`,
).toString('base64');

/** Every encoding of the secret a server could echo back. */
const secretEncodings = [
  clientSecret,
  encodeURIComponent(clientSecret),
  openidClientFormUrlEncode(clientSecret),
  new URLSearchParams({ s: clientSecret }).toString().slice(2),
  basicCredential,
  Buffer.from(`${clientId}:${clientSecret}`).toString('base64'),
  Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64'),
];

/** Everything the SDK produced during the scan, as text. */
interface Capture {
  readonly where: string;
  readonly text: string;
}

describe('leak scan', () => {
  it('keeps the secret in every encoding, assertions, the private key and tokens out of every error, event, channel message, warning, gRPC status and output line', async (t) => {
    const scan = await startScan(t);
    await scan.run();
    const { captured, forbidden } = scan;

    assert.ok(captured.length > 200, `the scan saw ${captured.length} outputs`);
    assert.ok(forbidden().length >= 15, `${forbidden().length} values scanned for`);
    assert.ok(
      captured.some((c) => c.where.includes('grpc status')),
      'gRPC statuses were scanned',
    );
    assert.ok(
      captured.some((c) => c.where === 'process warning'),
      'warnings were scanned',
    );
    for (const { where, text } of captured) {
      for (const secret of forbidden()) {
        assert.ok(
          !text.includes(secret),
          `${where} contains a secret (${secret.slice(0, 6)}…):\n${text.slice(0, 400)}`,
        );
      }
    }
  });
});

interface Scan {
  readonly captured: Capture[];
  readonly forbidden: () => string[];
  readonly run: () => Promise<void>;
}

async function startScan(t: TestContext): Promise<Scan> {
  const privateJwkD = String((await exportJWK(await importPKCS8(privatePem, 'RS256', { extractable: true }))).d);
  const assertions: string[] = [];
  const issuedTokens: string[] = [];
  const captured: Capture[] = [];
  const forbidden = (): string[] =>
    [...secretEncodings, knownToken, ...pemBody.slice(1, -1), privateJwkD, ...assertions, ...issuedTokens].filter(
      (v) => v.length >= 8,
    );

  const capture = (where: string, value: unknown): void => {
    captured.push({ where, text: inspect(value, { showHidden: true, depth: 12, getters: true }) });
    try {
      captured.push({ where: `${where} (JSON)`, text: JSON.stringify(value) ?? '' });
    } catch {
      // Circular payloads cannot be JSON; inspect covered them.
    }
    if (value instanceof Error) {
      captured.push(
        { where: `${where} (message)`, text: value.message },
        { where: `${where} (stack)`, text: value.stack ?? '' },
      );
      const { code, details } = value as { code?: unknown; details?: unknown };
      captured.push(
        { where: `${where} (code)`, text: String(code) },
        { where: `${where} (details)`, text: String(details) },
      );
    }
  };

  // Sinks: diagnostics_channel, warnings, stdout/stderr.
  const channelListener = (message: unknown, name: string | symbol): void =>
    capture(`diagnostics_channel ${String(name)}`, message);
  for (const name of Object.values(diagnosticsChannels)) subscribe(name, channelListener);
  const onWarning = (warning: Error): void => capture('process warning', warning);
  process.on('warning', onWarning);
  const originalStdout = process.stdout.write.bind(process.stdout);
  const originalStderr = process.stderr.write.bind(process.stderr);
  const tee = (original: typeof originalStdout) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured.push({ where: 'stdout/stderr', text: String(chunk) });
      return original(chunk, ...(rest as []));
    }) as typeof process.stdout.write;
  t.after(() => {
    for (const name of Object.values(diagnosticsChannels)) unsubscribe(name, channelListener);
    process.off('warning', onWarning);
    process.stdout.write = originalStdout;
    process.stderr.write = originalStderr;
  });

  // Servers: a raw one that echoes what it received (set per scene), the mock, a TLS gRPC server.
  const echo: RawTokenServer = await startRawTokenServer(t, () => ({ status: 500 }));
  const echoEndpoint = `${echo.url}/token`;
  const remember = (request: RawRequest): RawRequest => {
    const body = new URLSearchParams(request.body);
    for (const name of ['client_assertion', 'assertion', 'subject_token', 'actor_token']) {
      const value = body.get(name);
      if (value) assertions.push(value, encodeURIComponent(value), openidClientFormUrlEncode(value));
    }
    return request;
  };
  const mock = await MockTokenServer.start();
  t.after(() => mock.close());
  mock.addClient({ clientId, clientSecret });
  const grpcServer: GrpcFixture = await startGrpcFixture();
  t.after(() => grpcServer.close());
  const dir = await mkdtemp(join(tmpdir(), 'leak-'));
  t.after(() => rm(dir, { recursive: true, force: true }));

  const observe = (tokens: TokenManager, label: string): void => {
    tokens.on('tokenIssued', (e) => capture(`${label} tokenIssued`, e));
    tokens.on('refreshFailed', (e) => capture(`${label} refreshFailed`, e));
    tokens.on('fatalFailure', (e) => {
      capture(`${label} fatalFailure`, e);
      // A listener that throws is reported with process.emitWarning, its message included.
      throw new Error(`listener saw ${e.error.code}: ${e.error.message}`);
    });
  };

  /** A manager's failure, as getToken() and as a real gRPC call over TLS see it. */
  const failure = async (label: string, tokens: TokenManager): Promise<void> => {
    observe(tokens, label);
    try {
      const error = await tokens.getToken().then(
        () => assert.fail(`${label}: expected a failure`),
        (err: unknown) => err,
      );
      assert.ok(error instanceof TokenError, `${label}: ${String(error)}`);
      capture(label, error);
      const client = grpcServer.client(createChannelCredentials(grpcServer.channelCredentials(), tokens));
      const call = await unary(client, { options: { deadline: Date.now() + 5_000 } });
      assert.ok(call.error !== undefined, `${label}: the gRPC call failed`);
      capture(`${label} grpc status`, call.error);
    } finally {
      tokens.close();
    }
  };
  const manager = (options: TokenManagerOptions): TokenManager =>
    new TokenManager({
      clientId,
      allowInsecureRequests: true,
      requestTimeoutMs: 300,
      retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 2 },
      ...options,
    });
  const echoing = async (
    label: string,
    answer: (request: RawRequest) => RawAnswer,
    options: TokenManagerOptions = {},
  ): Promise<void> => {
    echo.respond = (request) => answer(remember(request));
    await failure(label, manager({ tokenEndpoint: echoEndpoint, clientSecret, ...options }));
  };
  const said = echoOf;
  const decodedSecret = (r: RawRequest): string => {
    const [, password = ''] = Buffer.from((r.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    return decodeURIComponent(password.replace(/\+/g, ' '));
  };

  const run = async (): Promise<void> => {
    process.stdout.write = tee(originalStdout);
    process.stderr.write = tee(originalStderr);

    // The Basic header the scan looks for is the one on the wire.
    await echoing('echo check', () => ({ status: 401, body: { error: 'invalid_client' } }));
    assert.equal(echo.requests.at(-1)?.headers.authorization, `Basic ${basicCredential}`);

    // A wrong secret, both client-secret methods.
    await failure(
      'wrong secret (basic)',
      manager({ tokenEndpoint: mock.tokenEndpoint, clientId: 'unknown-client', clientSecret }),
    );
    await failure(
      'wrong secret (post)',
      manager({
        tokenEndpoint: mock.tokenEndpoint,
        clientId: 'unknown-client',
        clientSecret,
        clientAuthMethod: 'client_secret_post',
      }),
    );

    // Servers that echo what they received: in the error code, the description and the challenge.
    await echoing('echo in a 401 body and challenge', echoingChallenge);
    await echoing('echo of the Basic header as the error code', (r) => ({
      status: 400,
      body: { error: r.headers.authorization, error_description: said(r) },
    }));
    await echoing('echo of the decoded secret as the error code', (r) => ({
      status: 400,
      body: { error: decodedSecret(r), error_description: decodedSecret(r) },
    }));
    await echoing('echo as the challenge error code', (r) => ({
      status: 401,
      headers: {
        'www-authenticate': `Basic error="${said(r)}", error_description="${decodedSecret(r).replace(/"/g, '')}"`,
      },
      body: '',
    }));
    await echoing(
      'echo of a post body as the error code',
      (r) => ({ status: 400, body: { error: r.body, error_description: `bad ${r.body}` } }),
      { clientAuthMethod: 'client_secret_post' },
    );
    await echoing(
      'echo of the post secret as the error code',
      (r) => ({ status: 400, body: { error: new URLSearchParams(r.body).get('client_secret') } }),
      {
        clientAuthMethod: 'client_secret_post',
      },
    );
    await echoing('echo in a 503 body', (r) => ({
      status: 503,
      headers: { 'retry-after': '0', 'x-echo': String(r.headers.authorization) },
      body: { error: said(r) },
    }));
    await echoing('echo in a 503 text body', (r) => ({
      status: 503,
      headers: { 'retry-after': '0' },
      body: `down; ${said(r)}`,
    }));
    // The assertion first: a description is cut short in messages, and the scan looks for it whole.
    const echoParameter =
      (name: string) =>
      (r: RawRequest): RawAnswer => {
        const value = new URLSearchParams(remember(r).body).get(name);
        return { status: 400, body: { error: value, error_description: `${value} in ${r.body}` } };
      };
    echo.respond = echoParameter('client_assertion');
    await failure(
      'echo of a private_key_jwt assertion',
      manager({ tokenEndpoint: echoEndpoint, privateKey: privatePem }),
    );
    const serviceAccount = join(dir, 'service-account.json');
    await writeFile(
      serviceAccount,
      JSON.stringify({
        type: 'service_account',
        private_key: privatePem,
        client_email: clientId,
        token_uri: echoEndpoint,
      }),
    );
    echo.respond = echoParameter('assertion');
    await failure(
      'echo of a JWT-bearer assertion',
      TokenManager.fromServiceAccountFile(serviceAccount, { allowInsecureRequests: true, retry: { retries: 0 } }),
    );

    // Workload identity: assertions and subject tokens from files and functions, token files, proxy credentials.
    const cluster = await MockWorkloadIssuer.create();
    const platformToken = async (lifetimeSec = 3600): Promise<string> => {
      const jwt = await cluster.sign({ subject: 'system:serviceaccount:shop:leak', audience: 'sts', lifetimeSec });
      assertions.push(jwt);
      return jwt;
    };
    const assertionFile = join(dir, 'client-assertion');
    await writeTokenFile(assertionFile, await platformToken());
    echo.respond = echoParameter('client_assertion');
    await failure(
      'echo of a clientAssertionFile assertion',
      manager({ tokenEndpoint: echoEndpoint, clientAssertionFile: assertionFile }),
    );
    // Short enough that an echo fits whole in a message: only redaction keeps it out.
    const fromFunction = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJsZWFrLWNpIn0.';
    assertions.push(fromFunction);
    await failure(
      'echo of a clientAssertion function',
      manager({ tokenEndpoint: echoEndpoint, clientAssertion: () => fromFunction }),
    );
    await writeTokenFile(assertionFile, await platformToken(-60));
    await failure(
      'expired clientAssertionFile',
      manager({ tokenEndpoint: echoEndpoint, clientAssertionFile: assertionFile }),
    );
    const subjectFile = join(dir, 'subject-token');
    await writeTokenFile(subjectFile, await platformToken());
    const actor = 'opaque-actor-token-0123456789';
    const jwtType = 'urn:ietf:params:oauth:token-type:jwt';
    const tokenExchange = {
      subjectTokenFile: subjectFile,
      subjectTokenType: jwtType,
      actorToken: () => actor,
      actorTokenType: jwtType,
    };
    for (const name of ['subject_token', 'actor_token']) {
      echo.respond = echoParameter(name);
      await failure(
        `echo of a token exchange's ${name}`,
        manager({ tokenEndpoint: echoEndpoint, clientSecret, tokenExchange }),
      );
    }
    await failure("echo of a public client's actor_token", manager({ tokenEndpoint: echoEndpoint, tokenExchange }));
    const tokenFile = join(dir, 'access-token');
    await writeTokenFile(tokenFile, await platformToken(-5));
    await failure('expired token file', TokenManager.fromTokenFile(tokenFile, { retry: { retries: 0 } }));
    await writeTokenFile(tokenFile, `${knownToken} trailing`);
    await failure('token file that is not a token', TokenManager.fromTokenFile(tokenFile, { retry: { retries: 0 } }));
    const proxyPassword = 'Leak-Proxy_pa55/word:x';
    const proxyUserInfo = `leak-proxy-user:${encodeURIComponent(proxyPassword)}`;
    assertions.push(proxyPassword, proxyUserInfo, Buffer.from(`leak-proxy-user:${proxyPassword}`).toString('base64'));
    await failure(
      'proxy that is down',
      manager({ tokenEndpoint: mock.tokenEndpoint, clientSecret, proxy: `http://${proxyUserInfo}@127.0.0.1:1` }),
    );
    assert.throws(
      () => manager({ tokenEndpoint: mock.tokenEndpoint, clientSecret, proxy: `::${proxyUserInfo}` }),
      (err: unknown) => (capture('bad proxy', err), true),
    );

    // Answers that carry a token but are unusable.
    for (const [what, answer] of [
      ['mac token', { access_token: knownToken, token_type: 'mac', expires_in: 60 }],
      ['bad expires_in', { access_token: knownToken, token_type: 'Bearer', expires_in: 'later' }],
      ['negative expires_in', { access_token: knownToken, token_type: 'Bearer', expires_in: -1 }],
      [
        'expired JWT',
        {
          access_token: knownToken.replace('eyJzdWIiOiJsZWFrIn0', Buffer.from('{"exp":1}').toString('base64url')),
          token_type: 'Bearer',
        },
      ],
      ['token in token_type', { access_token: 'x', token_type: knownToken }],
    ] as const) {
      await echoing(what, () => ({ body: answer }));
    }

    // Transport failures.
    await echoing('timeout', () => ({ fault: 'hang' }));
    await echoing('reset', () => ({ fault: 'reset' }));
    await failure('refused', manager({ tokenEndpoint: 'http://127.0.0.1:1/token', clientSecret }));

    // Configuration and key material.
    await failure(
      'unknown private_key_jwt client',
      manager({ tokenEndpoint: mock.tokenEndpoint, clientId: 'nobody', privateKey: privatePem }),
    );
    await failure(
      'unimportable key',
      manager({ tokenEndpoint: mock.tokenEndpoint, privateKey: privatePem.replace('MII', 'MIX') }),
    );
    assert.throws(
      () => manager({ tokenEndpoint: 'not a url', clientSecret }),
      (err: unknown) => (capture('bad option', err), true),
    );
    // A misspelt name or a boolean option given the secret: the AuthConfigError names the option only.
    assert.throws(
      () => manager({ tokenEndpoint: mock.tokenEndpoint, clientSecrets: clientSecret } as TokenManagerOptions),
      (err: unknown) => (capture('misspelt secret option', err), true),
    );
    assert.throws(
      () => manager({ tokenEndpoint: mock.tokenEndpoint, clientSecret, allowInsecureRequests: clientSecret as never }),
      (err: unknown) => (capture('secret in a boolean option', err), true),
    );
    const brokenKeyFile = join(dir, 'broken.json');
    await writeFile(
      brokenKeyFile,
      `{"type":"service_account","private_key":${JSON.stringify(privatePem)},"client_email":5`,
    );
    assert.throws(
      () => TokenManager.fromServiceAccountFile(brokenKeyFile),
      (err: unknown) => (capture('broken key file', err), true),
    );
    const wrongFieldFile = join(dir, 'wrong.json');
    await writeFile(
      wrongFieldFile,
      JSON.stringify({ type: 'service_account', private_key: privatePem, client_email: clientSecret, token_uri: 5 }),
    );
    assert.throws(
      () => TokenManager.fromServiceAccountFile(wrongFieldFile),
      (err: unknown) => (capture('key file with a bad field', err), true),
    );

    // A TLS client certificate's key (RFC 8705): the private key scanned for (privatePem) in the
    // key file of a pair that does not match, and a test client's key in a pair that does.
    const certs = await createTestCertificates();
    const tlsClient = await certs.issueClientCertificate({ spiffeId: 'spiffe://leak.test/client' });
    assertions.push(...tlsClient.key.split('\n').filter((line) => line && !line.startsWith('-----')));
    const tlsFiles = await writeCertificateFiles(join(dir, 'tls'), {
      cert: tlsClient.cert,
      key: tlsClient.key,
      ca: certs.caCert,
    });
    const rsaKeyFile = join(dir, 'rsa.key');
    await writeFile(rsaKeyFile, privatePem);
    for (const [what, tlsClientCertificate] of [
      ['TLS client key that is not the certificate’s', { certFile: tlsFiles.certFile, keyFile: rsaKeyFile }],
      ['TLS client certificate file holding a key', { certFile: rsaKeyFile, keyFile: tlsFiles.keyFile }],
    ] as const) {
      assert.throws(
        () => manager({ tokenEndpoint: 'https://127.0.0.1:1/token', tlsClientCertificate }),
        (err: unknown) => (capture(what, err), true),
      );
    }
    const tlsClientCertificate = { certFile: tlsFiles.certFile, keyFile: tlsFiles.keyFile, caFile: tlsFiles.caFile };
    const mtlsTokens = manager({ tokenEndpoint: 'https://127.0.0.1:1/token', tlsClientCertificate });
    capture('manager with a TLS client certificate', mtlsTokens);
    console.log('mTLS manager:', mtlsTokens);
    // Renewed with a key that is not the certificate's: kept the last good pair, with a warning.
    await tlsFiles.renew({ cert: tlsClient.cert, key: privatePem, ca: certs.caCert });
    await failure('refused mTLS token endpoint, renewed key not the certificate’s', mtlsTokens);
    assert.ok(
      captured.some((c) => c.where === 'process warning' && c.text.includes('kept the last good certificate')),
      'the reload warning was scanned',
    );

    // A DPoP key (P-256): its private parts stay out of a manager, its failures and refused options.
    const dpopKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const dpopPem = dpopKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const dpopJwk = dpopKey.export({ format: 'jwk' });
    assertions.push(...dpopPem.split('\n').filter((line) => line && !line.startsWith('-----')), String(dpopJwk.d));
    const dpopTokens = manager({ tokenEndpoint: mock.tokenEndpoint, clientSecret, dpop: { privateKey: dpopPem } });
    capture('manager with a DPoP key', dpopTokens);
    console.log('DPoP manager:', dpopTokens);
    // The mock issues DPoP-bound tokens: a token request with the key's proof succeeds (and is scanned).
    assert.equal((await dpopTokens.getToken()).tokenType, 'DPoP');
    await failure(
      'refused DPoP token request',
      manager({ tokenEndpoint: 'http://127.0.0.1:1/token', clientSecret, dpop: { privateKey: dpopJwk } }),
    );
    for (const [what, dpop] of [
      ['DPoP key in a boolean', { privateKey: dpopPem, acceptBearer: dpopPem }],
      ['DPoP key under a misspelt name', { privatekey: dpopPem }],
      ['public DPoP JWK given with its d moved', { privateKey: { ...dpopJwk, d: undefined, e: dpopJwk.d } }],
      ['RSA key as the DPoP key', { privateKey: privatePem }],
    ] as const) {
      assert.throws(
        () => manager({ tokenEndpoint: mock.tokenEndpoint, clientSecret, dpop: dpop as never }),
        (err: unknown) => (capture(what, err), true),
      );
    }

    // Success, logged the way a user might.
    const tokens = new TokenManager({
      tokenEndpoint: mock.tokenEndpoint,
      clientId,
      clientSecret,
      allowInsecureRequests: true,
    });
    observe(tokens, 'success');
    const token = await tokens.getToken();
    issuedTokens.push(token.accessToken);
    console.log('token:', token, `${String(token)}`, JSON.stringify({ token }));
    console.log('manager:', tokens, tokens.stats());
    capture('token', token);
    capture('manager', tokens);
    capture('mock request log', mock.requests);
    tokens.close();

    // Warnings are emitted on the next tick; let them arrive before the scan.
    await new Promise((resolve) => setImmediate(resolve));
    process.stdout.write = originalStdout;
    process.stderr.write = originalStderr;
  };
  return { captured, forbidden, run };
}
