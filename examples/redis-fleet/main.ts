// A fleet sharing its tokens through Redis: eight TokenManagers (standing in for eight pods) start
// at the same moment and make one token request between them; one more is made for the next cycle.
// Run it with a Redis to use: `npx tsx examples/redis-fleet/main.ts redis://127.0.0.1:6379`
// (it writes under the key prefix `example-fleet:` and leaves an encrypted entry that expires).
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { TokenManager } from 'grpc-oauth2-credentials';
import { createRedisTokenCache } from 'grpc-oauth2-credentials/redis';
import { MockTokenServer } from 'grpc-oauth2-credentials/testing';

async function main(redisUrl: string): Promise<void> {
  const tokenServer = await MockTokenServer.start({ tokenLifetimeSec: 3 });
  tokenServer.addClient({ clientId: 'orders-svc', clientSecret: 'example-secret-never-printed' });

  // Your connection, connected by you; the cache never opens one. In production the key comes from
  // a secret store (for example `openssl rand -base64 32`), the same for every pod.
  const redis = createClient({ url: redisUrl });
  redis.on('error', (error: Error) => console.error(`redis: ${error.message}`));
  await redis.connect();
  const encryptionKey = randomBytes(32);

  const fleet = Array.from(
    { length: 8 },
    () =>
      new TokenManager({
        tokenEndpoint: tokenServer.tokenEndpoint,
        clientId: 'orders-svc',
        clientSecret: 'example-secret-never-printed',
        scopes: ['orders.read'],
        allowInsecureRequests: true, // the mock token server is plain http on loopback
        refreshBeforeExpiryMs: 1_500,
        sharedCache: createRedisTokenCache(redis, { encryptionKey, keyPrefix: 'example-fleet:' }),
      }),
  );
  try {
    const tokens = await Promise.all(fleet.map((manager) => manager.getToken()));
    const distinct = new Set(tokens.map((token) => token.accessToken)).size;
    console.log(
      `cold start      ${fleet.length} managers, ${tokenServer.tokenRequestCount} token request, ${distinct} distinct token`,
    );

    // Each manager refreshes in the background, 1.5 s before expiry; the first to do so fetches.
    const first = tokens[0]?.accessToken;
    while (!fleet.every((manager) => (manager.getCachedToken()?.accessToken ?? first) !== first)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const refreshed = new Set(fleet.map((manager) => manager.getCachedToken()?.accessToken)).size;
    console.log(
      `refreshed       ${tokenServer.tokenRequestCount} token requests in all, ${refreshed} distinct token now`,
    );

    const stats = fleet.map((manager) => manager.stats());
    const sum = (pick: (s: (typeof stats)[number]) => number): number => stats.reduce((total, s) => total + pick(s), 0);
    console.log(
      `stats           sharedCacheHits ${sum((s) => s.sharedCacheHits)}, tokenRequests ${sum((s) => s.tokenRequests)}, sharedCacheFailures ${sum((s) => s.sharedCacheFailures)}`,
    );
    const keys = await redis.keys('example-fleet:*');
    console.log(`in redis        ${keys.join(', ')} (encrypted; no token, secret or scope in it)`);
  } finally {
    for (const manager of fleet) manager.close();
    redis.destroy();
    await tokenServer.close();
  }
}

await main(process.argv[2] ?? 'redis://127.0.0.1:6379');
