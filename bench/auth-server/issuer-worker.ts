// The server benchmark's issuer, in a worker thread of the bench process (issuer-thread.ts): it
// answers with its addresses once it listens, and closes when told.
import { parentPort } from 'node:worker_threads';
import { startIssuer, type IssuerAddresses } from './issuer.js';

const port = parentPort!;
const issuer = await startIssuer();
port.once('message', () => {
  void issuer.close().then(() => port.postMessage('closed'));
});
port.postMessage({
  issuer: issuer.issuer,
  tokenEndpoint: issuer.tokenEndpoint,
  resources: issuer.resources,
} satisfies IssuerAddresses);
