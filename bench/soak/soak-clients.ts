// The clients of the one-process soak: four TokenManagers, each a different client of the token
// server with a different credential, and five scope sets each.
import { join } from 'node:path';
import { TokenManager, type TokenManagerOptions } from '../../src/index.js';
import { MockWorkloadIssuer, writeTokenFile, type ManualClock } from '../../src/testing/index.js';
import type { TokenServerThread } from './token-server-thread.js';

/** One scope set of one manager, and when its callers come. */
export interface SoakScopeSet {
  readonly manager: number;
  /** The scopes, sorted and joined by spaces, as the manager keys them. */
  readonly key: string;
  /** The scopes to ask for; `undefined` for the manager's configured ones. */
  readonly scopes: readonly string[] | undefined;
  /** Mean time between two arrivals of callers, in ms. */
  readonly meanGapMs: number;
  /** When callers come next (monotonic ms). */
  nextCallMs: number;
}

export const scopeSetsPerManager = 5;

/** The manager whose client secret is in a file the soak rotates. */
export const secretFileManager = 0;
/** The manager whose client assertion comes from a function the soak makes hang. */
export const assertionFunctionManager = 1;

/** What the soak does to the clients' credentials. */
export interface SoakCredentials {
  readonly secretFile: string;
  /** The next call of the assertion function never settles; false when that was so already. */
  hangNextAssertion(): boolean;
}

export interface SoakClients {
  readonly managers: TokenManager[];
  /** Client id to manager index. */
  readonly managerOf: ReadonlyMap<string, number>;
  readonly credentials: SoakCredentials;
}

/**
 * Registers four clients with `server` and makes a manager for each, talking to `tokenEndpoint`:
 * a client secret read from a file (rotated during the run), a client assertion from a function (a
 * CI provider's OIDC token, signed by a `MockWorkloadIssuer`; it hangs now and then), and two client
 * secrets given as options (Basic and form-encoded). Other options are the defaults.
 */
export async function createSoakClients(
  server: TokenServerThread,
  tokenEndpoint: string,
  clock: ManualClock,
  options: {
    readonly directory: string;
    readonly onAssertionHang: () => void;
    /** Options every manager gets (the figures are judged against their waits and backoff). */
    readonly shared: Pick<TokenManagerOptions, 'requestTimeoutMs' | 'maxWaitMs' | 'retry'>;
  },
): Promise<SoakClients> {
  const secretFile = join(options.directory, 'client-secret');
  await writeTokenFile(secretFile, 'soak-secret-initial');
  // The platform's clock is right: it signs on true time, whatever the client's wall clock says.
  const ci = await MockWorkloadIssuer.create({
    issuer: 'https://ci.example.test',
    clock: { now: () => clock.monotonicNow() },
  });
  const subject = 'repo:example/orders:ref:refs/heads/main';
  let hangNext = false;
  const clientAssertion = (): Promise<string> => {
    if (!hangNext) return ci.sign({ subject, audience: server.tokenEndpoint, lifetimeSec: 600 });
    hangNext = false;
    options.onAssertionHang();
    return new Promise<string>(() => undefined);
  };
  const clients: { readonly id: string; readonly credential: Partial<TokenManagerOptions> }[] = [
    { id: 'soak-secret-file', credential: { clientSecretFile: secretFile } },
    { id: 'soak-assertion', credential: { clientAssertion } },
    { id: 'soak-basic', credential: { clientSecret: 'soak-basic-secret' } },
    { id: 'soak-post', credential: { clientSecret: 'soak-post-secret', clientAuthMethod: 'client_secret_post' } },
  ];
  await server.addClient({ clientId: clients[0]!.id, clientSecret: 'soak-secret-initial' });
  await server.addClient({
    clientId: clients[1]!.id,
    federatedCredential: { issuer: ci.issuer, subject, publicKey: ci.publicJwk },
  });
  await server.addClient({ clientId: clients[2]!.id, clientSecret: 'soak-basic-secret' });
  await server.addClient({ clientId: clients[3]!.id, clientSecret: 'soak-post-secret' });
  const managers = clients.map(
    ({ id, credential }, index) =>
      new TokenManager({
        tokenEndpoint,
        clientId: id,
        ...credential,
        scopes: scopeListsOf(index)[0],
        allowInsecureRequests: true,
        clock,
        ...options.shared,
      }),
  );
  return {
    managers,
    managerOf: new Map(clients.map(({ id }, index) => [id, index])),
    credentials: {
      secretFile,
      hangNextAssertion: () => {
        if (hangNext) return false;
        return (hangNext = true);
      },
    },
  };
}

/** The scope lists of manager `index`; the first is its configured one. */
function scopeListsOf(index: number): readonly (readonly string[])[] {
  const scope = (name: string): string => `m${index}.${name}`;
  return [
    [scope('read')],
    [scope('read'), scope('write')],
    [scope('admin')],
    [scope('audit'), scope('export'), scope('read')],
    [scope('stream')],
  ].map((scopes) => Object.freeze(scopes.sort()));
}

/**
 * Every scope set of `managers` managers, with the mean time between its callers drawn from
 * `meanGapMs()`: some are called every minute, some once in two hours, so that some stay in use and
 * some go idle between callers.
 */
export function soakScopeSets(managers: number, startMs: number, meanGapMs: () => number): SoakScopeSet[] {
  const sets: SoakScopeSet[] = [];
  for (let manager = 0; manager < managers; manager++) {
    scopeListsOf(manager).forEach((scopes, index) => {
      const gap = meanGapMs();
      sets.push({
        manager,
        key: scopes.join(' '),
        scopes: index === 0 ? undefined : scopes,
        meanGapMs: gap,
        nextCallMs: startMs,
      });
    });
  }
  return sets;
}
