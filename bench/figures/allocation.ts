// Bytes the client allocates per unary call: the SDK's interceptor and channel credentials, each
// against its grpc-js floor (the least any way of attaching a header that way costs), in the same
// rounds. CPU time per call moves with whatever else the machine runs; bytes allocated do not, so
// this says to within a fraction of a percent what the CPU figures only say to within several.
import type { TokenManager } from '../../src/index.js';
import {
  channelCredentialsClient,
  constantCallCredentialsClient,
  constantInterceptorClient,
  interceptorClient,
  type BenchClient,
} from '../clients.js';
import { allocatedBytes } from '../lib/allocation.js';
import { closedLoop } from '../lib/calls.js';
import type { Figure } from '../lib/figure.js';
import { alternate } from '../lib/rounds.js';
import { ratios, summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';
import type { ServerAddresses } from '../server/server-process.js';

type Variant = 'interceptor' | 'interceptorFloor' | 'channelCredentials' | 'channelFloor';

const labels: Record<Variant, string> = {
  interceptor: 'interceptor',
  interceptorFloor: 'minimal interceptor',
  channelCredentials: 'channel credentials',
  channelFloor: 'constant call credentials',
};

/** Bytes allocated per call over `calls` unary calls. */
async function bytesPerCall(bench: BenchClient, plan: Plan, calls: number): Promise<number> {
  let failures = 0;
  const bytes = await allocatedBytes(async () => {
    ({ failures } = await closedLoop(bench, { concurrency: plan.allocationConcurrency, stop: { calls } }));
  });
  if (failures > 0) throw new Error(`allocation benchmark: ${failures} calls failed`);
  return bytes / calls;
}

export async function allocationPerCall(servers: ServerAddresses, tokens: TokenManager, plan: Plan): Promise<Figure[]> {
  const authorization = `Bearer ${(await tokens.getToken()).accessToken}`;
  const clients: Record<Variant, BenchClient> = {
    interceptor: interceptorClient(servers, tokens),
    interceptorFloor: constantInterceptorClient(servers, authorization),
    channelCredentials: channelCredentialsClient(servers, tokens),
    channelFloor: constantCallCredentialsClient(servers, authorization),
  };
  try {
    // Optimized code allocates less than the interpreter does (escape analysis), so every path is
    // compiled before the first sample.
    for (const bench of Object.values(clients)) await bytesPerCall(bench, plan, plan.warmupCalls);
    const measure = (variant: Variant) => () => bytesPerCall(clients[variant], plan, plan.allocationCallsPerSample);
    const samples = await alternate(plan.allocationRounds, {
      interceptor: measure('interceptor'),
      interceptorFloor: measure('interceptorFloor'),
      channelCredentials: measure('channelCredentials'),
      channelFloor: measure('channelFloor'),
    });
    const figure = (id: string, title: string, ours: Variant, floor: Variant): Figure => {
      const ratio = ratios(samples[ours], samples[floor]);
      return {
        id,
        title,
        unit: 'bytes/call',
        ours: summarize(samples[ours]),
        reference: { label: labels[floor], value: summarize(samples[floor]) },
        ratio,
        rounds: plan.allocationRounds,
        goal: 'ratio ≤ 1.03',
        met: ratio.median <= 1.03,
        note:
          `JavaScript heap bytes allocated by the client process per unary call (the loop making the calls included), ` +
          `${plan.allocationCallsPerSample.toLocaleString('en-US')} calls per sample, ${plan.allocationConcurrency} in flight; ` +
          `${labels[ours]} − ${labels[floor]}: ${Math.round(summarize(samples[ours]).median - summarize(samples[floor]).median)} bytes (medians)`,
      };
    };
    return [
      figure(
        'alloc.interceptor',
        'bytes allocated per unary call, interceptor vs its floor',
        'interceptor',
        'interceptorFloor',
      ),
      figure(
        'alloc.channel',
        'bytes allocated per unary call, channel credentials vs its floor',
        'channelCredentials',
        'channelFloor',
      ),
    ];
  } finally {
    for (const bench of Object.values(clients)) bench.client.close();
  }
}
