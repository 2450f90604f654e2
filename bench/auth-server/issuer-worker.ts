// The server benchmark's issuer, in a worker thread of the bench process (issuer-thread.ts): it
// answers with its addresses once it listens, and closes when told.
import { parentPort, workerData } from 'node:worker_threads';
import { startIssuer, type IssuerAddresses, type IssuerTls } from './issuer.js';

const port = parentPort!;
const issuer = await startIssuer(workerData as IssuerTls);
port.once('message', () => {
  void issuer.close().then(() => port.postMessage('closed'));
});
port.postMessage({
  issuer: issuer.issuer,
  tokenEndpoint: issuer.tokenEndpoint,
  mtlsTokenEndpoint: issuer.mtlsTokenEndpoint,
  resources: issuer.resources,
} satisfies IssuerAddresses);
