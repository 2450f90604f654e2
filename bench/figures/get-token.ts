// What a call pays to get a cached token, against the cheapest cache there is: a plain Map
// lookup behind the same promise interface (`await Promise.resolve(map.get(key))`; getToken() also
// answers a cache hit with an already resolved promise).
import { performance } from 'node:perf_hooks';
import type { TokenManager } from '../../src/index.js';
import type { Figure } from '../lib/figure.js';
import { alternate } from '../lib/rounds.js';
import { ratios, summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';

/** A loop of `calls` lookups returning a checksum of what it got, which keeps the JIT from dropping them. */
type LookupLoop = (calls: number) => Promise<number>;

/** Nanoseconds per lookup of one run of `loop`. */
async function nsPerCall(calls: number, loop: LookupLoop): Promise<number> {
  const t0 = performance.now();
  const checksum = await loop(calls);
  const elapsedMs = performance.now() - t0;
  if (checksum === 0) throw new Error('getToken benchmark: empty tokens');
  return (elapsedMs * 1e6) / calls;
}

export async function cachedGetToken(tokens: TokenManager, plan: Plan): Promise<Figure[]> {
  const token = await tokens.getToken();
  const map = new Map([['orders.read', token.accessToken]]);
  const ours: LookupLoop = async (calls) => {
    let checksum = 0;
    for (let i = 0; i < calls; i++) checksum += (await tokens.getToken()).accessToken.length;
    return checksum;
  };
  const plain: LookupLoop = async (calls) => {
    let checksum = 0;
    for (let i = 0; i < calls; i++) checksum += (await Promise.resolve(map.get('orders.read')))!.length;
    return checksum;
  };
  const calls = plan.getTokenCallsPerSample;
  await nsPerCall(calls, ours);
  await nsPerCall(calls, plain);
  const results = await alternate(plan.getTokenRounds, {
    ours: () => nsPerCall(calls, ours),
    map: () => nsPerCall(calls, plain),
  });
  const oursNs = summarize(results.ours);
  return [
    {
      id: 'get-token.cached',
      title: 'cached getToken(), awaited',
      unit: 'ns/call',
      ours: oursNs,
      reference: { label: 'Map', value: summarize(results.map) },
      ratio: ratios(results.ours, results.map),
      rounds: plan.getTokenRounds,
      goal: '≤ 1,000 ns',
      met: oursNs.median <= 1_000,
      note: `${calls.toLocaleString('en-US')} calls per round; the reference is await Promise.resolve(map.get(key))`,
    },
  ];
}
