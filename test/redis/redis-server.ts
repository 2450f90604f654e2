import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { createClient } from 'redis';
import { Redis } from 'ioredis';

const installHint = 'apt-get update && apt-get install -y redis-server';

/** Whether `redis-server` can be run here. */
const available = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * The `skip` option for a suite that needs redis-server: a message with the install command when it
 * is missing, except under CI, where the suite runs and fails instead.
 */
export const skipWithoutRedis: string | false =
  available || process.env.CI === 'true' || process.env.CI === '1'
    ? false
    : `redis-server is not installed; install it with: ${installHint}`;

/** A redis-server of one test, on 127.0.0.1, without persistence. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Kills it (SIGKILL) and resolves once it exited. */
  kill(): Promise<void>;
  /** Stops it answering (SIGSTOP), or lets it go on (SIGCONT). */
  pause(): void;
  resume(): void;
}

/** Starts a redis-server on a free port; stopped by PID after the test. */
export async function startRedisServer(t: TestContext): Promise<RedisServer> {
  if (!available) throw new Error(`redis-server is not installed; install it with: ${installHint}`);
  const port = await freePort();
  const proc = spawn('redis-server', redisServerArgs(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = proc.pid as number;
  t.after(() => stop(proc));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
  });
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid,
    kill: () => stop(proc),
    pause: () => process.kill(pid, 'SIGSTOP'),
    resume: () => process.kill(pid, 'SIGCONT'),
  };
}

/**
 * redis-server's arguments for a test or the fleet soak: `port` on 127.0.0.1, no persistence (a
 * restart starts empty), DEBUG allowed (for DEBUG SLEEP).
 */
export function redisServerArgs(port: number): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--enable-debug-command',
    'yes',
  ];
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  process.kill(proc.pid as number, 'SIGKILL');
  await exited;
}

/** A TCP port of 127.0.0.1 free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A connected node-redis client, destroyed after the test (unless the test closed it). */
export async function nodeRedisClient(t: TestContext, url: string) {
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } });
  client.on('error', () => undefined);
  t.after(() => {
    if (client.isOpen) client.destroy();
  });
  await client.connect();
  return client;
}

/** A connected ioredis client, disconnected after the test. */
export async function ioredisClient(t: TestContext, port: number): Promise<Redis> {
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  t.after(() => client.disconnect());
  await client.connect();
  return client;
}

/** Every key in the server and its raw value (SCAN and GET). */
export async function dumpKeyspace(url: string): Promise<Map<string, string>> {
  const client = createClient({ url });
  await client.connect();
  try {
    const dump = new Map<string, string>();
    for await (const keys of client.scanIterator()) {
      for (const key of keys) dump.set(key, (await client.get(key)) ?? '');
    }
    return dump;
  } finally {
    client.destroy();
  }
}

/**
 * The keyspace once the writes a manager makes after handing out its token have landed: at least
 * `entries` keys, and no lock left.
 */
export async function settledKeyspace(url: string, entries = 1, limitMs = 5_000): Promise<Map<string, string>> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const dump = await dumpKeyspace(url);
    if (dump.size >= entries && ![...dump.keys()].some((key) => key.endsWith(':lock'))) return dump;
    if (Date.now() > deadline) throw new Error(`keyspace did not settle: ${dump.size} keys`);
  }
}
