// Messages per second on one bidi stream. The token goes out once, with the stream's
// metadata, so this shows whether anything of ours sits in the per-message path. A minimal interceptor
// (see clients.ts) shows what any grpc-js interceptor layer costs per message, and the client's CPU
// time per message, measured in the same samples, is steadier than throughput on a shared machine.
import type { TokenManager } from '../../src/index.js';
import { variantLabel, type BenchClient } from '../clients.js';
import { bidiMessagesPerSecond } from '../lib/calls.js';
import type { Figure } from '../lib/figure.js';
import { measureSideBySide } from '../lib/side-by-side.js';
import { ratios, summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';
import type { ServerAddresses } from '../server/server-process.js';

const variants = ['staticHeader', 'interceptor', 'interceptorFloor', 'channelCredentials'] as const;
type Variant = (typeof variants)[number];

interface Sample {
  readonly messagesPerSecond: number;
  readonly cpuMicrosPerMessage: number;
}

export async function bidiThroughput(servers: ServerAddresses, tokens: TokenManager, plan: Plan): Promise<Figure[]> {
  const messages = plan.bidiMessagesPerSample;
  const measure = async (bench: BenchClient): Promise<Sample> => {
    const cpuBefore = process.cpuUsage();
    const messagesPerSecond = await bidiMessagesPerSecond(bench, messages, plan.concurrency);
    const cpu = process.cpuUsage(cpuBefore);
    return { messagesPerSecond, cpuMicrosPerMessage: (cpu.user + cpu.system) / messages };
  };
  const rounds = plan.bidiRounds;
  const samples = await measureSideBySide(servers, tokens, variants, rounds, { warmUp: measure, measure });
  const throughput = (variant: Variant): number[] => samples[variant].map((s) => s.messagesPerSecond);
  const cpu = (variant: Variant): number[] => samples[variant].map((s) => s.cpuMicrosPerMessage);
  const cpuNote = (variant: Variant): string =>
    `one stream, ${plan.concurrency} messages unanswered at a time; client CPU per message ${summarize(cpu(variant)).median.toFixed(1)} µs, ` +
    `${ratios(cpu(variant), cpu('staticHeader')).median.toFixed(2)} × the static header's (medians)`;
  const figure = (id: string, title: string, variant: Variant, hasGoal: boolean): Figure => {
    const ratio = ratios(throughput(variant), throughput('staticHeader'));
    return {
      id,
      title,
      unit: 'messages/s',
      ours: summarize(throughput(variant)),
      reference: { label: variantLabel('staticHeader'), value: summarize(throughput('staticHeader')) },
      ratio,
      rounds,
      ...(hasGoal ? { goal: 'ratio ≥ 0.97', met: ratio.median >= 0.97 } : {}),
      note: cpuNote(variant),
    };
  };
  return [
    figure('bidi.interceptor', 'bidi stream, interceptor vs static header', 'interceptor', true),
    figure(
      'bidi.interceptor-floor',
      'bidi stream, minimal interceptor (grpc-js floor) vs static header',
      'interceptorFloor',
      false,
    ),
    figure('bidi.channel', 'bidi stream, channel credentials vs static header', 'channelCredentials', true),
  ];
}
