import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TokenError } from '../../src/index.js';
import { TokenManager } from '../../src/index.js';
import { clientSecret, startTokenServer } from '../helpers/token-fixtures.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sa-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeJson(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(content));
  return path;
}

function rsaKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

describe('service-account key files', () => {
  it('uses a Google-format key with the JWT-bearer grant, the scopes in the assertion', async (t) => {
    const server = await startTokenServer(t);
    const { publicPem, privatePem } = rsaKeyPair();
    const clientEmail = 'orders@project.iam.example.test';
    server.addServiceAccount({ clientEmail, publicKey: publicPem });
    const path = await writeJson('google.json', {
      type: 'service_account',
      project_id: 'project',
      private_key_id: 'key-1',
      private_key: privatePem,
      client_email: clientEmail,
      client_id: '1234567890',
      token_uri: server.tokenEndpoint,
    });
    const tokens = TokenManager.fromServiceAccountFile(path, { scopes: ['orders.read', 'orders.write'], allowInsecureRequests: true });
    try {
      const token = await tokens.getToken();
      const claims = await server.verifyAccessToken(token.accessToken);
      assert.equal(claims.sub, clientEmail);
      assert.equal(claims.scope, 'orders.read orders.write');
      assert.equal(server.requests.at(-1)?.grantType, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    } finally {
      tokens.close();
    }
  });

  it('uses a generic OAuth2 client file with a client secret', async (t) => {
    const server = await startTokenServer(t);
    const path = await writeJson('client.json', { client_id: 'orders-svc', client_secret: clientSecret, token_endpoint: server.tokenEndpoint });
    const tokens = TokenManager.fromServiceAccountFile(path, { scopes: ['orders.read'], allowInsecureRequests: true });
    try {
      await tokens.getToken();
      assert.equal(server.requests.at(-1)?.authMethod, 'client_secret_basic');
    } finally {
      tokens.close();
    }
  });

  it('uses a generic OAuth2 client file with a private key and discovery', async (t) => {
    const server = await startTokenServer(t);
    const { publicPem, privatePem } = rsaKeyPair();
    server.addClient({ clientId: 'keyed-client', publicKey: publicPem });
    const path = await writeJson('keyed.json', { client_id: 'keyed-client', private_key: privatePem, issuer: server.issuer });
    const tokens = TokenManager.fromServiceAccountFile(path, { allowInsecureRequests: true });
    try {
      await tokens.getToken();
      assert.equal(server.requests.at(-1)?.authMethod, 'private_key_jwt');
    } finally {
      tokens.close();
    }
  });

  const broken: [string, unknown, RegExp][] = [
    ['no client_email', { type: 'service_account', private_key: 'PRIVATE KEY placeholder', token_uri: 'https://a.test/t' }, /"client_email"/],
    ['no private_key', { type: 'service_account', client_email: 'a@b', token_uri: 'https://a.test/t' }, /"private_key"/],
    ['a private_key that is not PEM', { type: 'service_account', client_email: 'a@b', private_key: 'abc', token_uri: 'https://a.test/t' }, /"private_key" is not a PEM/],
    ['no token_uri', { type: 'service_account', client_email: 'a@b', private_key: 'PRIVATE KEY placeholder' }, /"token_uri"/],
    ['a numeric client_id', { client_id: 5, client_secret: 'x', token_endpoint: 'https://a.test/t' }, /"client_id" must be a string/],
    ['neither secret nor key', { client_id: 'a', token_endpoint: 'https://a.test/t' }, /neither "client_secret" nor "private_key"/],
    ['no endpoint', { client_id: 'a', client_secret: 'x' }, /neither "token_endpoint" nor "issuer"/],
    ['an unknown type', { type: 'authorized_user', client_id: 'a' }, /"type" "authorized_user" is not supported/],
  ];
  for (const [what, content, message] of broken) {
    it(`names the field when the key file has ${what}`, async () => {
      const path = await writeJson(`broken-${what.replace(/\W+/g, '-')}.json`, content);
      assert.throws(
        () => TokenManager.fromServiceAccountFile(path),
        (err: TokenError) => err instanceof TokenError && err.code === 'config' && message.test(err.message),
      );
    });
  }

  it('refuses an http token_uri unless allowInsecureRequests is set', async () => {
    const path = await writeJson('plain-http.json', {
      type: 'service_account',
      client_email: 'a@b.example.test',
      private_key: rsaKeyPair().privatePem,
      token_uri: 'http://auth.example.test/token',
    });
    assert.throws(
      () => TokenManager.fromServiceAccountFile(path),
      (err: TokenError) => err.code === 'insecure_endpoint' && /"token_uri" of .*allowInsecureRequests/.test(err.message),
    );
    TokenManager.fromServiceAccountFile(path, { allowInsecureRequests: true }).close();
  });

  it('says so when the key file is missing or not JSON', async () => {
    assert.throws(() => TokenManager.fromServiceAccountFile(join(dir, 'absent.json')), /could not be read \(ENOENT\)/);
    const path = join(dir, 'garbage.json');
    await writeFile(path, `{"private_key": "${'x'.repeat(10)}`);
    assert.throws(
      () => TokenManager.fromServiceAccountFile(path),
      (err: TokenError) => err.code === 'config' && /not valid JSON/.test(err.message) && !err.message.includes('xxxxxxxxxx'),
    );
  });
});
