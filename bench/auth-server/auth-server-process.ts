// The bench process's handle on the auth server process (main.ts), and the clients that call it.
import { fork, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { bundleForNode } from '../../test/helpers/node-bundle.js';
import { TokenManager } from '../../src/index.js';
import { createTestCertificates, writeCertificateFiles, type ClientCertificate } from '../../src/testing/index.js';
import { mutualTlsClient, staticHeaderClient, withStaticHeader, type BenchClient } from '../clients.js';
import type { ProfileKind } from '../lib/profiles.js';
import { boundAccessToken } from './bound-token.js';
import { IssuerThread } from './issuer-thread.js';
import type {
  AuthServerCommand,
  AuthServerStart,
  AuthServerReady,
  AuthServerReply,
  RoundCount,
  ServerVariant,
  TokenKind,
} from './protocol.js';
import { issuerClient, tokenKindOf, transportOf } from './protocol.js';

const entry = fileURLToPath(new URL('./main.ts', import.meta.url));
const bundleDir = fileURLToPath(new URL(`../../.tmp/bench-auth-server-${process.pid}/`, import.meta.url));

/**
 * main.ts and the SDK's source bundled into one plain-JavaScript file, dependencies left external.
 * The server runs it with plain node, not through tsx: tsx compiles with esbuild's `keepNames`,
 * which wraps every function a call creates in `__name()` (an `Object.defineProperty` each), a cost
 * per closure that neither the published build (tsc) nor a user's bundle has, and that would fall
 * on the variants unevenly (about 2 µs per call on the SDK's cached path, 0 on the pass-through).
 */
async function bundle(): Promise<string> {
  const outfile = `${bundleDir}main.mjs`;
  await bundleForNode(entry, outfile);
  return outfile;
}

/** The CA that signed the gRPC server's and the issuer's https certificates, and the bench client's certificate. */
interface BenchTls {
  readonly caCert: string;
  readonly client: ClientCertificate;
}

/** The gRPC server with switchable interceptors, in a child process, and the issuer, in a worker thread. */
export class AuthServerProcess {
  readonly ready: AuthServerReady;
  /** The bundle the server runs (until {@link stop}): profiles name its lines. */
  readonly bundleFile: string;
  readonly #issuer: IssuerThread;
  readonly #tls: BenchTls;
  readonly #child: ChildProcess;
  readonly #pending = new Map<
    number,
    { resolve: (count: RoundCount | undefined) => void; reject: (error: Error) => void }
  >();
  readonly #exited: Promise<unknown>;
  #nextId = 0;

  private constructor(
    issuer: IssuerThread,
    child: ChildProcess,
    ready: AuthServerReady,
    bundleFile: string,
    tls: BenchTls,
  ) {
    this.#issuer = issuer;
    this.#tls = tls;
    this.#child = child;
    this.ready = ready;
    this.bundleFile = bundleFile;
    child.on('message', (message: AuthServerReply) => {
      this.#pending.get(message.id)?.resolve(message.count);
      this.#pending.delete(message.id);
    });
    // A server that dies mid-run fails the round that waits on it rather than leaving it waiting.
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        for (const { reject } of this.#pending.values())
          reject(new Error(`bench auth server exited with code ${code}`));
        this.#pending.clear();
        resolve(code);
      }),
    );
  }

  /** Starts the issuer, bundles and forks the server process, and waits until it listens. */
  static async start(): Promise<AuthServerProcess> {
    // One CA for the gRPC server, the issuer's https port and the bench client's certificate.
    const certs = await createTestCertificates();
    const tls: BenchTls = { caCert: certs.caCert, client: await certs.issueClientCertificate({ commonName: 'bench' }) };
    const issuer = await IssuerThread.start({ cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert });
    try {
      const { issuer: issuerUrl, resources } = issuer.addresses;
      const bundleFile = await bundle();
      const { certFile, keyFile, caFile } = await writeCertificateFiles(`${bundleDir}tls`, {
        cert: certs.serverCert,
        key: certs.serverKey,
        ca: certs.caCert,
      });
      const start: AuthServerStart = {
        issuer: issuerUrl,
        audience: resources.jwt,
        opaqueAudience: resources.opaque,
        tlsFiles: { certFile, keyFile, caFile },
      };
      const child = fork(bundleFile, [JSON.stringify(start)], {
        execArgv: [],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const ready = await new Promise<AuthServerReady>((resolve, reject) => {
        child.once('message', (message: AuthServerReady) => resolve(message));
        child.once('exit', (code) =>
          reject(new Error(`bench auth server exited with code ${code} before it was ready`)),
        );
      });
      child.removeAllListeners('exit');
      return new AuthServerProcess(issuer, child, ready, bundleFile, tls);
    } catch (error) {
      await issuer.close();
      await rm(bundleDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * A client per variant of `variants`, sending an access token the issuer gave for the variant's
   * token kind as a static header: the client's own cost is not what is measured. The TLS variants
   * share a connection per token kind; the mutual-TLS variants share one connection, presenting the
   * bench client's certificate, so that they differ in their tokens only.
   */
  async openClients<V extends ServerVariant>(variants: readonly V[]): Promise<Record<V, BenchClient>> {
    const authorization = new Map<TokenKind, string>();
    for (const kind of new Set(variants.map(tokenKindOf))) authorization.set(kind, `Bearer ${await this.#token(kind)}`);
    const { tokenEndpoint } = this.#issuer.addresses;
    const servers = { grpcAddress: this.ready.grpcAddress, tokenEndpoint, caCert: this.#tls.caCert };
    const tls = new Map<TokenKind, BenchClient>();
    let mutual: grpc.Client | undefined;
    const clients: Partial<Record<V, BenchClient>> = {};
    for (const variant of variants) {
      const kind = tokenKindOf(variant);
      const header = authorization.get(kind)!;
      if (transportOf(variant) === 'mtls') {
        mutual ??= mutualTlsClient(this.ready.mtlsAddress, this.#tls.caCert, this.#tls.client);
        clients[variant] = withStaticHeader(mutual, header);
      } else {
        if (!tls.has(kind)) tls.set(kind, staticHeaderClient(servers, header));
        clients[variant] = tls.get(kind);
      }
    }
    return clients as Record<V, BenchClient>;
  }

  /** An access token of `kind` from the issuer. */
  async #token(kind: TokenKind): Promise<string> {
    const { tokenEndpoint, mtlsTokenEndpoint, resources } = this.#issuer.addresses;
    const { clientId, boundClientId, clientSecret, scope } = issuerClient;
    if (kind === 'boundJwt') {
      const { caCert, client } = this.#tls;
      return boundAccessToken({
        tokenEndpoint: mtlsTokenEndpoint,
        caCert,
        certificate: client,
        clientId: boundClientId,
        clientSecret,
        scope,
        resource: resources[kind],
      });
    }
    const tokens = new TokenManager({
      tokenEndpoint,
      clientId,
      clientSecret,
      scopes: [scope],
      resource: resources[kind],
      allowInsecureRequests: true,
    });
    try {
      return (await tokens.getToken()).accessToken;
    } finally {
      tokens.close();
    }
  }

  /** Installs `variant` and starts counting the server's CPU time and allocations (and profiling, if asked). */
  async begin(variant: ServerVariant, profile?: { readonly kind: ProfileKind; readonly file: string }): Promise<void> {
    await this.#send({ type: 'begin', variant, profile });
  }

  /** The server's CPU time and handled calls since {@link begin}. */
  async end(): Promise<RoundCount> {
    const count = await this.#send({ type: 'end' });
    if (count === undefined) throw new Error('bench auth server: no count at the end of a round');
    return count;
  }

  /** Stops the server process (if it still runs) and the issuer. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) await this.#send({ type: 'stop' });
    await this.#exited;
    await this.#issuer.close();
    await rm(bundleDir, { recursive: true, force: true });
  }

  #send(command: AuthServerCommand): Promise<RoundCount | undefined> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, command }, (error) => {
        if (error === null) return;
        this.#pending.delete(id);
        reject(error);
      });
    });
  }
}
