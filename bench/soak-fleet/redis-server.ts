// The fleet soak's redis-server: started, SIGKILLed and started again on the same port (empty: no
// persistence), paused with CLIENT PAUSE and put to sleep with DEBUG SLEEP. Always stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createClient, type RedisClientType } from 'redis';
// The tests' own helpers: the same redis-server settings, and a free port.
import { freePort, redisServerArgs } from '../../test/redis/redis-server.js';

export class SoakRedisServer {
  readonly port: number;
  #proc: ChildProcess | undefined;
  /** For CLIENT PAUSE and DEBUG SLEEP; reconnects after each restart. */
  readonly #control: RedisClientType;

  private constructor(port: number) {
    this.port = port;
    this.#control = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: 50 } });
    this.#control.on('error', () => undefined);
  }

  /** A redis-server on a free port of 127.0.0.1, and a control client connected to it. */
  static async start(): Promise<SoakRedisServer> {
    const server = new SoakRedisServer(await freePort());
    await server.#launch();
    await server.#control.connect();
    return server;
  }

  /** Whether the server runs now. */
  get up(): boolean {
    return this.#proc !== undefined;
  }

  /** SIGKILL, and resolves once it exited. */
  async kill(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    process.kill(proc.pid as number, 'SIGKILL');
    await exited;
  }

  /** Starts it again on the same port, empty. */
  restart(): Promise<void> {
    return this.#launch();
  }

  /** `CLIENT PAUSE ms ALL`: every client's commands wait `ms`. */
  async pause(ms: number): Promise<void> {
    await this.#control.sendCommand(['CLIENT', 'PAUSE', String(ms), 'ALL']);
  }

  /** `DEBUG SLEEP`: the server blocks for `ms`; resolves when it answers again. */
  async sleep(ms: number): Promise<void> {
    await this.#control.sendCommand(['DEBUG', 'SLEEP', (ms / 1000).toFixed(3)]);
  }

  /** Stops the control client and the server. */
  async stop(): Promise<void> {
    if (this.#control.isOpen) this.#control.destroy();
    await this.kill();
  }

  /** The PID of the server running now, for a last-chance kill on exit. */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  async #launch(): Promise<void> {
    const proc = spawn('redis-server', redisServerArgs(this.port), { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#proc = proc;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          proc.stdout?.off('data', onData);
          proc.stdout?.resume();
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.once('exit', (code) =>
        reject(
          new Error(
            `redis-server exited (${code}) before it was ready; is it installed (apt-get install -y redis-server)?\n${output}`,
          ),
        ),
      );
    });
  }
}
