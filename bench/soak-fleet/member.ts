// One process of the fleet soak, forked by run.ts: a TokenManager per scope set on one shared Redis
// client, and callers asking for tokens at random times. It reports every getToken() outcome, every
// token request it sends and every shared-cache failure to the parent over IPC; never a token.
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { TokenManager } from '../../src/index.js';
import { createRedisTokenCache, type RedisClientLike } from '../../src/redis/index.js';
import type { MemberConfig, MemberMessage, ParentMessage } from './protocol.js';
import { between, pick, seededRandom } from './random.js';

const config = JSON.parse(process.argv[2] as string) as MemberConfig;
const random = seededRandom(config.seed);

/** Sends `message`; resolves once it is handed to the channel (or at once when the parent is gone). */
function send(message: MemberMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}

/** A client of either library, connecting in the background: a member may start while Redis is down. */
function redisClient(): { client: RedisClientLike; connected: Promise<unknown>; close: () => void } {
  // A reconnection every 100 ms, as a fleet next to its Redis would set it.
  if (config.library === 'redis') {
    const nodeRedis = createClient({
      url: `redis://127.0.0.1:${config.redisPort}`,
      socket: { reconnectStrategy: 100 },
    });
    nodeRedis.on('error', () => undefined);
    return {
      client: nodeRedis,
      connected: nodeRedis.connect().catch(() => undefined),
      close: () => nodeRedis.destroy(),
    };
  }
  const ioredis = new Redis(config.redisPort, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 100 });
  ioredis.on('error', () => undefined);
  return { client: ioredis, connected: ioredis.connect().catch(() => undefined), close: () => ioredis.disconnect() };
}

const redis = redisClient();
await Promise.race([redis.connected, new Promise((resolve) => setTimeout(resolve, 1_000))]);

interface Member {
  readonly scope: string;
  readonly tokens: TokenManager;
  requestInFlight: boolean;
}

const members: Member[] = config.scopeSets.map((scope) => {
  const tokens = new TokenManager({
    tokenEndpoint: config.tokenEndpoint,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    scopes: [scope],
    allowInsecureRequests: true,
    requestTimeoutMs: config.requestTimeoutMs,
    maxWaitMs: config.maxWaitMs,
    refreshBeforeExpiryMs: config.refreshBeforeExpiryMs,
    retry: { maxTimeoutMs: config.retryMaxTimeoutMs },
    sharedCache: createRedisTokenCache(redis.client, { encryptionKey: config.encryptionKey, keyPrefix: 'soak-fleet:' }),
  });
  tokens.on('sharedCacheFailed', ({ operation, error }) => {
    void send({ type: 'cacheFailed', operation, code: String((error as { code?: unknown }).code), at: Date.now() });
  });
  return { scope, tokens, requestInFlight: false };
});

/** Token requests sent and not yet ended (a token taken from Redis took no request). */
function requestsInFlight(tokens: TokenManager): number {
  const { tokenRequests, failedTokenRequests, tokensIssued, sharedCacheHits } = tokens.stats();
  return tokenRequests - failedTokenRequests - (tokensIssued - sharedCacheHits);
}

// Polled, since no event announces a request going out; 5 ms is far below a request's duration here.
const requestWatch = setInterval(() => {
  for (const member of members) {
    const inFlight = requestsInFlight(member.tokens) > 0;
    if (inFlight === member.requestInFlight) continue;
    member.requestInFlight = inFlight;
    const at = Date.now();
    if (!inFlight) void send({ type: 'requestEnded', scope: member.scope, at });
    else
      void send({
        type: 'requestStarted',
        scope: member.scope,
        at,
        background: member.tokens.stats().cachedTokens > 0,
      });
  }
}, 5);

const pending = new Set<Promise<void>>();

/** One getToken() call, reported with its wait. */
function call(member: Member): Promise<void> {
  const cachedAtStart = member.tokens.stats().cachedTokens > 0;
  const startedAt = Date.now();
  const start = performance.now();
  const report = (ok: boolean, code?: string): Promise<void> =>
    send({
      type: 'call',
      scope: member.scope,
      startedAt,
      waitMs: performance.now() - start,
      ok,
      ...(code === undefined ? {} : { code }),
      cachedAtStart,
    });
  const done = member.tokens.getToken().then(
    () => report(true),
    (error: { code?: unknown }) => report(false, String(error.code)),
  );
  pending.add(done);
  void done.finally(() => pending.delete(done));
  return done;
}

let stopping = false;
let nextCall: NodeJS.Timeout | undefined;
function callAtRandom(): void {
  nextCall = setTimeout(
    () => {
      if (stopping) return;
      void call(pick(random, members));
      callAtRandom();
    },
    between(random, config.callGapMs[0], config.callGapMs[1]),
  );
}

async function exit(graceful: boolean): Promise<void> {
  stopping = true;
  clearTimeout(nextCall);
  if (graceful) await Promise.all(pending);
  clearInterval(requestWatch);
  const totals = members.map((member) => member.tokens.stats());
  const sent = send({
    type: 'done',
    tokenRequests: totals.reduce((sum, stats) => sum + stats.tokenRequests, 0),
    sharedCacheHits: totals.reduce((sum, stats) => sum + stats.sharedCacheHits, 0),
  });
  for (const member of members) member.tokens.close();
  redis.close();
  await sent;
  process.disconnect();
}

if (config.oneShot) {
  // A job: one token per scope set, then gone at once.
  await Promise.all(members.map((member) => call(member)));
  await exit(false);
} else {
  process.on('message', (message: ParentMessage) => {
    if (message === 'go') callAtRandom();
    else if (message === 'stop') void exit(true);
  });
  await send({ type: 'ready' });
}
