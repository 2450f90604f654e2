// Unary calls per second over TLS loopback at a fixed concurrency, for the
// limit (a static header), the SDK's interceptor and channel credentials, the do-it-yourself peer, and
// two floors: the least grpc-js itself costs for each way of attaching a token (an interceptor that
// adds a precomputed header, and precomputed call credentials composed into the channel). All run in the same
// rounds, so each ratio pairs samples taken moments apart; the client's CPU time per call, measured
// in the same samples, says where the time goes.
import type { TokenManager } from '../../src/index.js';
import { variantLabel, type BenchClient } from '../clients.js';
import { closedLoop } from '../lib/calls.js';
import type { Figure } from '../lib/figure.js';
import { measureSideBySide } from '../lib/side-by-side.js';
import { ratios, summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';
import type { ServerAddresses } from '../server/server-process.js';

const variants = [
  'staticHeader',
  'staticHeaderTwin',
  'interceptor',
  'interceptorNoReplay',
  'interceptorFloor',
  'channelCredentials',
  'channelFloor',
  'diy',
] as const;
type Variant = (typeof variants)[number];

/** One sample: throughput, and the client process's CPU time per call. */
interface Sample {
  readonly callsPerSecond: number;
  readonly cpuMicrosPerCall: number;
}

async function sample(bench: BenchClient, plan: Plan, calls: number): Promise<Sample> {
  const cpuBefore = process.cpuUsage();
  const result = await closedLoop(bench, { concurrency: plan.concurrency, stop: { calls } });
  const cpu = process.cpuUsage(cpuBefore);
  if (result.failures > 0)
    throw new Error(`unary benchmark: ${result.failures} calls failed: ${result.firstError?.message}`);
  return { callsPerSecond: result.callsPerSecond, cpuMicrosPerCall: (cpu.user + cpu.system) / result.calls };
}

export async function unaryThroughput(servers: ServerAddresses, tokens: TokenManager, plan: Plan): Promise<Figure[]> {
  const samples = await measureSideBySide(servers, tokens, variants, plan.throughputRounds, {
    warmUp: (bench) => sample(bench, plan, plan.warmupCalls),
    measure: (bench) => sample(bench, plan, plan.unaryCallsPerSample),
  });
  const rounds = plan.throughputRounds;
  const throughput = (variant: Variant): number[] => samples[variant].map((s) => s.callsPerSecond);
  const cpu = (variant: Variant): number[] => samples[variant].map((s) => s.cpuMicrosPerCall);
  const cpuRatio = (variant: Variant, reference: Variant): string =>
    ratios(cpu(variant), cpu(reference)).median.toFixed(2);

  const compare = (
    id: string,
    title: string,
    ours: Variant,
    reference: Variant,
    goal: number | undefined,
    note?: string,
  ): Figure => {
    const ratio = ratios(throughput(ours), throughput(reference));
    return {
      id,
      title,
      unit: 'calls/s',
      ours: summarize(throughput(ours)),
      reference: { label: variantLabel(reference), value: summarize(throughput(reference)) },
      ratio,
      rounds,
      goal: goal === undefined ? undefined : `ratio ≥ ${goal}`,
      met: goal === undefined ? undefined : ratio.median >= goal,
      note,
    };
  };
  const cpuFigure = (id: string, title: string, ours: Variant, reference: Variant): Figure => ({
    id,
    title,
    unit: 'µs CPU/call',
    ours: summarize(cpu(ours)),
    reference: { label: variantLabel(reference), value: summarize(cpu(reference)) },
    ratio: ratios(cpu(ours), cpu(reference)),
    rounds,
    note:
      `client CPU (user + system) per call, same samples; static header: ${summarize(cpu('staticHeader')).median.toFixed(0)} µs; ` +
      `per-round ratios to it: ${variantLabel(reference)} ${cpuRatio(reference, 'staticHeader')}, ${variantLabel(ours)} ${cpuRatio(ours, 'staticHeader')} (medians)`,
  });
  return [
    compare(
      'unary.a-a',
      'unary, static header vs the same on a second client (A/A)',
      'staticHeaderTwin',
      'staticHeader',
      undefined,
      'two identical clients: how far apart the same thing measures on this machine, the resolution of every throughput ratio',
    ),
    compare('unary.interceptor', 'unary, interceptor vs static header', 'interceptor', 'staticHeader', 0.97),
    compare(
      'unary.interceptor-floor',
      'unary, minimal interceptor (grpc-js floor) vs static header',
      'interceptorFloor',
      'staticHeader',
      undefined,
      'adds a precomputed header as the call starts: the cost of an interceptor layer, no token logic',
    ),
    cpuFigure(
      'cpu.interceptor',
      'client CPU per unary call, interceptor vs its floor',
      'interceptor',
      'interceptorFloor',
    ),
    cpuFigure(
      'cpu.interceptor-no-replay',
      'client CPU per unary call, interceptor without replay vs its floor',
      'interceptorNoReplay',
      'interceptorFloor',
    ),
    compare('unary.channel', 'unary, channel credentials vs static header', 'channelCredentials', 'staticHeader', 0.97),
    compare(
      'unary.channel-floor',
      'unary, constant call credentials (grpc-js floor) vs static header',
      'channelFloor',
      'staticHeader',
      undefined,
      'precomputed call credentials composed into the channel: no token logic',
    ),
    cpuFigure(
      'cpu.channel',
      'client CPU per unary call, channel credentials vs its floor',
      'channelCredentials',
      'channelFloor',
    ),
    compare('unary.channel-vs-diy', 'unary, channel credentials vs do-it-yourself', 'channelCredentials', 'diy', 1.0),
    cpuFigure(
      'cpu.channel-vs-diy',
      'client CPU per unary call, channel credentials vs do-it-yourself',
      'channelCredentials',
      'diy',
    ),
    compare('unary.interceptor-vs-diy', 'unary, interceptor vs do-it-yourself', 'interceptor', 'diy', 1.0),
  ];
}
