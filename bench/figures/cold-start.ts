// Token requests caused by 1,000 calls made at once by a client that has no token yet,
// as at the start of a process or after a deploy.
import { channelCredentialsClient, createTokenManager, diyClient, type BenchClient } from '../clients.js';
import { unaryCall } from '../lib/calls.js';
import type { Figure } from '../lib/figure.js';
import { alternate } from '../lib/rounds.js';
import { summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';
import type { ServerProcess } from '../server/server-process.js';

const coldCalls = 1_000;

/** Token requests the token server saw while `coldCalls` calls on a new client completed. */
async function tokenRequestsForColdCalls(servers: ServerProcess, bench: BenchClient): Promise<number> {
  const before = await servers.tokenRequestCount();
  const errors = await Promise.all(Array.from({ length: coldCalls }, () => unaryCall(bench)));
  const failed = errors.filter((error) => error !== undefined);
  if (failed.length > 0) throw new Error(`cold start: ${failed.length} calls failed: ${failed[0]?.message}`);
  return (await servers.tokenRequestCount()) - before;
}

export async function coldStart(servers: ServerProcess, plan: Plan): Promise<Figure[]> {
  const results = await alternate(plan.peerRounds, {
    ours: async () => {
      const tokens = createTokenManager(servers);
      const bench = channelCredentialsClient(servers, tokens);
      try {
        return await tokenRequestsForColdCalls(servers, bench);
      } finally {
        bench.client.close();
        tokens.close();
      }
    },
    diy: async () => {
      const bench = diyClient(servers);
      try {
        return await tokenRequestsForColdCalls(servers, bench);
      } finally {
        bench.client.close();
      }
    },
  });
  const ours = summarize(results.ours);
  return [
    {
      id: 'cold-start.token-requests',
      title: `token requests for ${coldCalls.toLocaleString('en-US')} concurrent cold calls`,
      unit: 'requests',
      ours,
      reference: { label: 'diy', value: summarize(results.diy) },
      rounds: plan.peerRounds,
      goal: 'ours: 1',
      met: ours.max === 1,
      note: 'a new client per round; ours: createChannelCredentials with a new TokenManager',
    },
  ];
}
