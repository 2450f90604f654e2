// The soak's token server, in a worker thread of its own (see token-server-thread.ts): a
// MockTokenServer whose clock is the run's true time, read from memory shared with the main thread,
// and driven by messages.
import { parentPort, workerData } from 'node:worker_threads';
import { MockTokenServer, type MockClient, type TokenServerFault } from '../../src/testing/index.js';

/** What the main thread asks of the server; each request is answered once, by `id`. */
export type TokenServerCommand =
  | { readonly op: 'addClient'; readonly client: MockClient }
  | { readonly op: 'failNext'; readonly count: number; readonly fault: TokenServerFault }
  | { readonly op: 'rotateSigningKey' }
  | { readonly op: 'tokenRequestCount' }
  | { readonly op: 'close' };

/** The answer to one command. */
export type TokenServerReply =
  | { readonly id: number; readonly value: string | number | undefined }
  | { readonly id: number; readonly error: string };

/** What the worker is started with. */
export interface TokenServerWorkerData {
  /** One float64: the run's true time, in ms since the epoch, written by the main thread. */
  readonly time: SharedArrayBuffer;
  readonly tokenLifetimeSec: number;
}

const port = parentPort!;
const { time, tokenLifetimeSec } = workerData as TokenServerWorkerData;
const now = new Float64Array(time);
const server = await MockTokenServer.start({ clock: { now: () => now[0]! }, tokenLifetimeSec, signingAlg: 'ES256' });
const kid = server.jwks.keys[0]!.kid!;

async function run(command: TokenServerCommand): Promise<string | number | undefined> {
  switch (command.op) {
    case 'addClient':
      server.addClient(command.client);
      return undefined;
    case 'failNext':
      server.failNext(command.count, command.fault);
      return undefined;
    case 'rotateSigningKey':
      return server.rotateSigningKey();
    case 'tokenRequestCount':
      return server.tokenRequestCount;
    case 'close':
      // The main thread terminates the worker once this is answered.
      await server.close();
      return undefined;
  }
}

port.on('message', ({ id, command }: { id: number; command: TokenServerCommand }) => {
  run(command).then(
    (value) => port.postMessage({ id, value } satisfies TokenServerReply),
    (error: unknown) => port.postMessage({ id, error: String(error) } satisfies TokenServerReply),
  );
});
port.postMessage({ tokenEndpoint: server.tokenEndpoint, issuer: server.issuer, kid });
