// Bytes the client allocates per unary call: the SDK's interceptor and channel credentials, each
// against its grpc-js floor (the least any way of attaching a header that way costs), in the same
// rounds. CPU time per call moves with whatever else the machine runs; bytes allocated do not, so
// this says to within a fraction of a percent what the CPU figures only say to within several.
import type { TokenManager } from '../../src/index.js';
import { variantLabel, type BenchClient } from '../clients.js';
import { allocatedBytes } from '../lib/allocation.js';
import { closedLoop } from '../lib/calls.js';
import type { Figure } from '../lib/figure.js';
import { measureSideBySide } from '../lib/side-by-side.js';
import { ratios, summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';
import type { ServerAddresses } from '../server/server-process.js';

const variants = ['interceptor', 'interceptorFloor', 'channelCredentials', 'channelFloor'] as const;
type Variant = (typeof variants)[number];

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
  // Optimized code allocates less than the interpreter does (escape analysis), so every path is
  // compiled before the first sample.
  const samples = await measureSideBySide(servers, tokens, variants, plan.allocationRounds, {
    warmUp: (bench) => bytesPerCall(bench, plan, plan.warmupCalls),
    measure: (bench) => bytesPerCall(bench, plan, plan.allocationCallsPerSample),
  });
  const figure = (id: string, title: string, ours: Variant, floor: Variant): Figure => {
    const ratio = ratios(samples[ours], samples[floor]);
    const extra = summarize(samples[ours]).median - summarize(samples[floor]).median;
    return {
      id,
      title,
      unit: 'bytes/call',
      ours: summarize(samples[ours]),
      reference: { label: variantLabel(floor), value: summarize(samples[floor]) },
      ratio,
      rounds: plan.allocationRounds,
      goal: 'ratio ≤ 1.03',
      met: ratio.median <= 1.03,
      note:
        `JavaScript heap bytes allocated by the client process per unary call (the loop making the calls included), ` +
        `${plan.allocationCallsPerSample.toLocaleString('en-US')} calls per sample, ${plan.allocationConcurrency} in flight; ` +
        `${variantLabel(ours)} − ${variantLabel(floor)}: ${Math.round(extra)} bytes (medians)`,
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
}
