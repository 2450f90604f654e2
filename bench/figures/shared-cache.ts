// The shared token cache on Redis: token requests of a fleet with and without it, and what it adds
// to a cold getToken(). The fleet is N managers in this process, each standing in for a process
// with its own Redis client (the lock and the entry work the same between processes; the fleet
// tests in test/redis/processes.test.ts show it with real ones). A real redis-server on loopback,
// the mock token server over HTTP, the system clock and short token lifetimes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { TokenManager, type TokenManagerOptions } from '../../src/index.js';
import { createRedisTokenCache } from '../../src/redis/index.js';
import { MockTokenServer } from '../../src/testing/index.js';
import type { Figure } from '../lib/figure.js';
import { summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';

const scopeSets = [['orders.read'], ['orders.write'], ['inventory.read'], ['inventory.write'], ['billing.read']];
const encryptionKey = randomBytes(32);

interface Setup {
  readonly server: MockTokenServer;
  readonly redisUrl: string;
  readonly clients: { destroy(): void }[];
  readonly managers: TokenManager[];
}

async function startRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept connections') && resolve());
    proc.once('exit', () =>
      reject(new Error('redis-server did not start (is it installed? apt-get install -y redis-server)')),
    );
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => process.kill(proc.pid as number, 'SIGKILL') };
}

/** `count` managers, each with its own Redis client when `shared`. */
async function fleetOf(
  count: number,
  shared: boolean,
  redisUrl: string,
  lifetimeSec: number,
  extra: TokenManagerOptions = {},
): Promise<Setup> {
  const server = await MockTokenServer.start({ tokenLifetimeSec: lifetimeSec });
  server.addClient({ clientId: 'bench-svc', clientSecret: 'bench-secret' });
  const clients: { destroy(): void }[] = [];
  const managers: TokenManager[] = [];
  for (let i = 0; i < count; i++) {
    let sharedCache;
    if (shared) {
      const client = createClient({ url: redisUrl });
      client.on('error', () => undefined);
      await client.connect();
      clients.push(client);
      sharedCache = createRedisTokenCache(client, { encryptionKey, keyPrefix: `bench-${lifetimeSec}-${count}:` });
    }
    managers.push(
      new TokenManager({
        tokenEndpoint: server.tokenEndpoint,
        clientId: 'bench-svc',
        clientSecret: 'bench-secret',
        allowInsecureRequests: true,
        sharedCache,
        ...extra,
      }),
    );
  }
  return { server, redisUrl, clients, managers };
}

async function teardown(setup: Setup): Promise<void> {
  for (const manager of setup.managers) manager.close();
  for (const client of setup.clients) client.destroy();
  await setup.server.close();
}

/** Token requests of a cold fleet asking for every scope set at once. */
async function coldRequests(managers: number, shared: boolean, redisUrl: string): Promise<number> {
  const setup = await fleetOf(managers, shared, redisUrl, 3600);
  try {
    await Promise.all(setup.managers.flatMap((manager) => scopeSets.map((scopes) => manager.getToken({ scopes }))));
    return setup.server.tokenRequestCount;
  } finally {
    await teardown(setup);
  }
}

/** Token requests per token lifetime of a fleet in use through `cycles` refreshes (2 s tokens). */
async function requestsPerCycle(managers: number, cycles: number, shared: boolean, redisUrl: string): Promise<number> {
  const setup = await fleetOf(managers, shared, redisUrl, 2, { refreshBeforeExpiryMs: 1_000 });
  try {
    const generations = new Set<string>();
    while (generations.size < cycles + 1) {
      const tokens = await Promise.all(setup.managers.map((manager) => manager.getToken()));
      for (const token of tokens) generations.add(token.accessToken);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Distinct tokens seen by the fleet: one per cycle with the cache, one per manager per cycle without.
    return setup.server.tokenRequestCount / (shared ? generations.size : generations.size / managers);
  } finally {
    await teardown(setup);
  }
}

/** Milliseconds of one cold getToken(), for a fresh scope set each time. */
async function coldLatencies(samples: number, shared: boolean, redisUrl: string): Promise<number[]> {
  const setup = await fleetOf(1, shared, redisUrl, 3600);
  const manager = setup.managers[0] as TokenManager;
  try {
    const latencies: number[] = [];
    for (let i = 0; i < samples + 20; i++) {
      const startedAt = performance.now();
      await manager.getToken({ scopes: [`scope-${i}`] });
      if (i >= 20) latencies.push(performance.now() - startedAt);
    }
    return latencies;
  } finally {
    await teardown(setup);
  }
}

export async function sharedCache(plan: Plan): Promise<Figure[]> {
  const redis = await startRedis();
  try {
    const n = plan.sharedCacheManagers;
    const coldWith = await coldRequests(n, true, redis.url);
    const coldWithout = await coldRequests(n, false, redis.url);
    const cycleWith = await requestsPerCycle(n, plan.sharedCacheCycles, true, redis.url);
    const cycleWithout = await requestsPerCycle(n, plan.sharedCacheCycles, false, redis.url);
    const latencyWith = summarize(await coldLatencies(200, true, redis.url));
    const latencyWithout = summarize(await coldLatencies(200, false, redis.url));
    const fleet = `${n} managers`;
    return [
      {
        id: 'shared-cache.cold-requests',
        title: `${fleet} × ${scopeSets.length} scope sets, cold: token requests`,
        unit: 'requests',
        ours: summarize([coldWith]),
        reference: { label: 'no shared cache', value: summarize([coldWithout]) },
        rounds: 1,
        goal: `${scopeSets.length} (one per scope set)`,
        met: coldWith === scopeSets.length,
      },
      {
        id: 'shared-cache.requests-per-cycle',
        title: `${fleet}, ${plan.sharedCacheCycles} refresh cycles of 2 s tokens: token requests per cycle`,
        unit: 'requests',
        ours: summarize([cycleWith]),
        reference: { label: 'no shared cache', value: summarize([cycleWithout]) },
        rounds: 1,
        goal: '1',
        met: cycleWith === 1,
      },
      {
        id: 'shared-cache.cold-get-token',
        title: 'cold getToken() (one manager, new scope set each call), median',
        unit: 'ms',
        ours: latencyWith,
        reference: { label: 'no shared cache', value: latencyWithout },
        rounds: 200,
        note: 'with the cache: GET, SET NX PX, GET, the token request; the entry is written after the caller has its token',
      },
    ];
  } finally {
    redis.stop();
  }
}
