// The main thread's handle on the soak's token server. The server runs in a worker thread so that
// what it keeps (it logs every request for its whole life) is not in the heap the soak measures, and
// so that signing tokens takes the other core.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { MockClient, TokenServerFault } from '../../src/testing/index.js';
import type { TokenServerCommand, TokenServerReply, TokenServerWorkerData } from './token-server-worker.js';

const workerEntry = new URL('./token-server-worker.ts', import.meta.url).href;

export class TokenServerThread {
  readonly tokenEndpoint: string;
  /** The server's issuer: the audience of client assertions. */
  readonly issuer: string;
  /** The `kid` tokens are signed with now. */
  signingKid: string;
  readonly #worker: Worker;
  readonly #time: Float64Array;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  private constructor(
    worker: Worker,
    time: Float64Array,
    ready: { tokenEndpoint: string; issuer: string; kid: string },
  ) {
    this.#worker = worker;
    this.#time = time;
    this.tokenEndpoint = ready.tokenEndpoint;
    this.issuer = ready.issuer;
    this.signingKid = ready.kid;
    worker.on('message', (reply: TokenServerReply) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if ('error' in reply) pending?.reject(new Error(`token server: ${reply.error}`));
      else pending?.resolve(reply.value);
    });
  }

  /** Starts the server at true time `startMs` (ms since the epoch), issuing tokens that live `tokenLifetimeSec`. */
  static async start(startMs: number, tokenLifetimeSec: number): Promise<TokenServerThread> {
    const time = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT));
    time[0] = startMs;
    const data: TokenServerWorkerData = { time: time.buffer, tokenLifetimeSec };
    // The worker loads TypeScript through tsx's API: a worker does not inherit the `--import tsx` hooks.
    const boot = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(workerEntry)}, ${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(boot, { eval: true, workerData: data });
    const [ready] = (await Promise.race([
      once(worker, 'message'),
      once(worker, 'error').then(([error]) => Promise.reject(error as Error)),
    ])) as [{ tokenEndpoint: string; issuer: string; kid: string }];
    return new TokenServerThread(worker, time, ready);
  }

  /** Sets the server's clock: the run's true time, in ms since the epoch. */
  setTime(ms: number): void {
    this.#time[0] = ms;
  }

  addClient(client: MockClient): Promise<void> {
    return this.#call({ op: 'addClient', client }) as Promise<void>;
  }

  failNext(count: number, fault: TokenServerFault): Promise<void> {
    return this.#call({ op: 'failNext', count, fault }) as Promise<void>;
  }

  /** Rotates the signing key (the JWKS then serves the new one alone) and notes its `kid`. */
  async rotateSigningKey(): Promise<void> {
    this.signingKid = (await this.#call({ op: 'rotateSigningKey' })) as string;
  }

  /** Token requests the server has taken (and taken their queued faults for). */
  tokenRequestCount(): Promise<number> {
    return this.#call({ op: 'tokenRequestCount' }) as Promise<number>;
  }

  async close(): Promise<void> {
    await this.#call({ op: 'close' });
    await this.#worker.terminate();
  }

  #call(command: TokenServerCommand): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, command });
    });
  }
}
