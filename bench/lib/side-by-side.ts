// The shape of every side-by-side client figure: a client per variant, each warmed up, then measured
// in interleaved rounds (rounds.ts), then closed.
import type { TokenManager } from '../../src/index.js';
import { closeClients, openClients, type BenchClient, type ClientVariant } from '../clients.js';
import type { ServerAddresses } from '../server/server-process.js';
import { alternateEach } from './rounds.js';

export interface SideBySide<T> {
  /** Before the rounds, once per client, so that the JIT has compiled every path. */
  readonly warmUp: (bench: BenchClient) => Promise<unknown>;
  /** One sample of one client. */
  readonly measure: (bench: BenchClient) => Promise<T>;
}

/** Each variant's samples, in round order, measured on clients opened for this and closed after it. */
export async function measureSideBySide<V extends ClientVariant, T>(
  servers: ServerAddresses,
  tokens: TokenManager,
  variants: readonly V[],
  rounds: number,
  { warmUp, measure }: SideBySide<T>,
): Promise<Record<V, T[]>> {
  const clients = await openClients(servers, tokens, variants);
  try {
    for (const variant of variants) await warmUp(clients[variant]);
    return await alternateEach(rounds, variants, (variant) => measure(clients[variant]));
  } finally {
    closeClients(clients);
  }
}
