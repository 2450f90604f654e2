// The bench process's handle on the issuer (oidc-provider), which runs in a worker thread of its
// own. Not in the server process: oidc-provider keeps an AsyncLocalStorage, and on Node 20 its first
// use turns on promise hooks for the whole isolate, after which every promise made there costs more
// (async_hooks tracks it). In the server process that would tax the interceptors, the more so the
// more promises they make; in a worker of the bench process it taxes nothing that is measured, and
// nothing of the other sections once the thread is gone.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { IssuerAddresses, IssuerTls } from './issuer.js';

const workerEntry = new URL('./issuer-worker.ts', import.meta.url).href;

export class IssuerThread {
  readonly addresses: IssuerAddresses;
  readonly #worker: Worker;

  private constructor(worker: Worker, addresses: IssuerAddresses) {
    this.#worker = worker;
    this.addresses = addresses;
  }

  /** Starts the issuer; `tls` is its https port's certificate and the CA it verifies client certificates with. */
  static async start(tls: IssuerTls): Promise<IssuerThread> {
    // The worker loads TypeScript through tsx's API: a worker does not inherit the `--import tsx` hooks.
    const boot = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(workerEntry)}, ${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(boot, { eval: true, workerData: tls });
    const [addresses] = (await Promise.race([
      once(worker, 'message'),
      once(worker, 'error').then(([error]) => Promise.reject(error as Error)),
    ])) as [IssuerAddresses];
    return new IssuerThread(worker, addresses);
  }

  async close(): Promise<void> {
    const closed = once(this.#worker, 'message');
    this.#worker.postMessage('close');
    await closed;
    await this.#worker.terminate();
  }
}
