// Secret-free service accounts: a platform (here a pretend Kubernetes cluster) writes a short-lived
// JWT to a file and rotates it; the TokenManager sends it as a client assertion, exchanges it for an
// access token (RFC 8693), or serves an access token a sidecar keeps in a file. No client secret,
// no private key. Run it with `npx tsx examples/workload-identity/main.ts`.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenManager } from 'grpc-oauth2-credentials';
import { MockTokenServer, MockWorkloadIssuer } from 'grpc-oauth2-credentials/testing';

const serviceAccount = 'system:serviceaccount:shop:orders';

async function main(): Promise<void> {
  const authServer = await MockTokenServer.start();
  const cluster = await MockWorkloadIssuer.create({ issuer: 'https://kubernetes.default.svc' });
  const dir = await mkdtemp(join(tmpdir(), 'workload-example-'));
  // Where the kubelet would mount the projected service-account token.
  const projectedToken = join(dir, 'token');
  const managers: TokenManager[] = [];
  try {
    // 1. The cluster's token as a client assertion (Entra / any RFC 7523 server with a federated credential).
    authServer.addClient({
      clientId: 'orders-svc',
      federatedCredential: { issuer: cluster.issuer, subject: serviceAccount, publicKey: cluster.publicJwk },
      allowedScopes: ['orders.read'],
    });
    await cluster.writeTokenFile(projectedToken, {
      subject: serviceAccount,
      audience: authServer.tokenEndpoint,
      lifetimeSec: 3600,
    });
    const tokens = new TokenManager({
      tokenEndpoint: authServer.tokenEndpoint,
      clientId: 'orders-svc',
      clientAssertionFile: projectedToken,
      scopes: ['orders.read'],
      allowInsecureRequests: true, // the mock speaks http on loopback
    });
    managers.push(tokens);
    const first = await authServer.verifyAccessToken((await tokens.getToken()).accessToken);
    console.log(`assertion file     token for ${String(first.client_id)} with scope ${String(first.scope)}`);

    // The kubelet rotates the file; the next token request sends the new one, no restart.
    await cluster.writeTokenFile(projectedToken, {
      subject: serviceAccount,
      audience: authServer.tokenEndpoint,
      lifetimeSec: 3600,
    });
    tokens.invalidate();
    await tokens.getToken();
    const accepted = authServer.requests.filter((r) => r.authMethod === 'private_key_jwt' && r.status === 200).length;
    console.log(`rotated            picked up without a restart (${accepted} assertions accepted)`);

    // 2. The same from a function, as with a CI provider's OIDC token.
    const ci = await MockWorkloadIssuer.create({ issuer: 'https://token.actions.example.test' });
    authServer.addClient({
      clientId: 'deployer',
      federatedCredential: {
        issuer: ci.issuer,
        subject: 'repo:shop/orders:ref:refs/heads/main',
        publicKey: ci.publicJwk,
      },
    });
    const deployer = new TokenManager({
      tokenEndpoint: authServer.tokenEndpoint,
      clientId: 'deployer',
      clientAssertion: () =>
        ci.sign({ subject: 'repo:shop/orders:ref:refs/heads/main', audience: authServer.tokenEndpoint }),
      allowInsecureRequests: true,
    });
    managers.push(deployer);
    console.log(
      `assertion function token for ${String((await authServer.verifyAccessToken((await deployer.getToken()).accessToken)).client_id)}`,
    );

    // 3. Token exchange at a security-token service that trusts the cluster.
    authServer.addSubjectTokenIssuer({ issuer: cluster.issuer, publicKey: cluster.publicJwk });
    authServer.addClient({ clientId: 'orders-gateway', clientSecret: 'gateway-secret' });
    const exchanged = new TokenManager({
      tokenEndpoint: authServer.tokenEndpoint,
      clientId: 'orders-gateway',
      clientSecret: 'gateway-secret',
      audience: 'https://orders.example.test',
      tokenExchange: { subjectTokenFile: projectedToken, subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt' },
      allowInsecureRequests: true,
    });
    managers.push(exchanged);
    const claims = await authServer.verifyAccessToken((await exchanged.getToken()).accessToken);
    console.log(`token exchange     token for ${String(claims.sub)}, audience ${String(claims.aud)}`);

    // 4. A token a sidecar keeps fresh in a file (gRFC A97's token file call credentials).
    const sidecarFile = join(dir, 'access-token');
    await cluster.writeTokenFile(sidecarFile, {
      subject: serviceAccount,
      audience: 'https://orders.example.test',
      lifetimeSec: 600,
    });
    const fromFile = TokenManager.fromTokenFile(sidecarFile);
    managers.push(fromFile);
    const fileToken = await fromFile.getToken();
    console.log(`token file         ${String(fileToken)}`);
    console.log(
      `no secrets on the server's log: ${JSON.stringify(authServer.requests).includes('eyJ') ? 'a token leaked' : 'none'}`,
    );
  } finally {
    for (const manager of managers) manager.close();
    await authServer.close();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('example failed:', err);
  process.exitCode = 1;
});
