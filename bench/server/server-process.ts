// The client's handle on the benchmark server process (server/main.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TokenServerFault } from '../../src/testing/index.js';
import type { Command, CommandMessage, ReadyMessage, ReplyMessage } from './protocol.js';

const entry = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Where the servers listen: what a client needs to reach them. */
export interface ServerAddresses {
  readonly grpcAddress: string;
  readonly tokenEndpoint: string;
  readonly caCert: string;
}

/** The gRPC and token servers, running in a child process. */
export class ServerProcess implements ServerAddresses {
  readonly grpcAddress: string;
  readonly tokenEndpoint: string;
  readonly caCert: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, (value: number) => void>();
  #nextId = 0;

  private constructor(child: ChildProcess, ready: ReadyMessage) {
    this.#child = child;
    this.grpcAddress = ready.grpcAddress;
    this.tokenEndpoint = ready.tokenEndpoint;
    this.caCert = ready.caCert;
    child.on('message', (message: ReplyMessage) => {
      this.#pending.get(message.id)?.(message.value);
      this.#pending.delete(message.id);
    });
  }

  /** Forks the server process (TypeScript through tsx) and waits until it listens. */
  static async start(): Promise<ServerProcess> {
    const child = fork(entry, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<ReadyMessage>((resolve, reject) => {
      child.once('message', (message: ReadyMessage) => resolve(message));
      child.once('exit', (code) => reject(new Error(`bench server exited with code ${code} before it was ready`)));
    });
    child.removeAllListeners('exit');
    return new ServerProcess(child, ready);
  }

  /** The next `count` token requests get `fault` (MockTokenServer.failNext). */
  async failNext(count: number, fault: TokenServerFault): Promise<void> {
    await this.#send({ type: 'failNext', count, fault });
  }

  async clearFaults(): Promise<void> {
    await this.#send({ type: 'clearFaults' });
  }

  /** Lifetime (`expires_in`) of the tokens issued from now on. */
  async setTokenLifetime(seconds: number): Promise<void> {
    await this.#send({ type: 'setTokenLifetime', seconds });
  }

  /** Moves the token server's clock `ms` ahead of the wall clock (for a client on a manual clock). */
  async setClockOffset(ms: number): Promise<void> {
    await this.#send({ type: 'setClockOffset', ms });
  }

  /** Requests the token endpoint has received so far. */
  tokenRequestCount(): Promise<number> {
    return this.#send({ type: 'tokenRequestCount' });
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    await this.#send({ type: 'stop' });
    await exited;
  }

  #send(command: Command): Promise<number> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#child.send({ id, command } satisfies CommandMessage);
    });
  }
}
