// Messages per second on one bidi stream. The token goes out once, with the stream's
// metadata, so this shows whether anything of ours sits in the per-message path. A minimal interceptor
// (see clients.ts) shows what any grpc-js interceptor layer costs per message, and the client's CPU
// time per message, measured in the same samples, is steadier than throughput on a shared machine.
import type { TokenManager } from '../../src/index.js';
import {
  channelCredentialsClient,
  constantInterceptorClient,
  interceptorClient,
  staticHeaderClient,
  type BenchClient,
} from '../clients.js';
import { bidiMessagesPerSecond } from '../lib/calls.js';
import type { Figure } from '../lib/figure.js';
import { alternate } from '../lib/rounds.js';
import { ratios, summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';
import type { ServerAddresses } from '../server/server-process.js';

type Variant = 'staticHeader' | 'interceptor' | 'interceptorFloor' | 'channelCredentials';

interface Sample {
  readonly messagesPerSecond: number;
  readonly cpuMicrosPerMessage: number;
}

const labels: Record<Variant, string> = {
  staticHeader: 'static',
  interceptor: 'interceptor',
  interceptorFloor: 'minimal interceptor',
  channelCredentials: 'channel credentials',
};

export async function bidiThroughput(servers: ServerAddresses, tokens: TokenManager, plan: Plan): Promise<Figure[]> {
  const authorization = `Bearer ${(await tokens.getToken()).accessToken}`;
  const clients: Record<Variant, BenchClient> = {
    staticHeader: staticHeaderClient(servers, authorization),
    interceptor: interceptorClient(servers, tokens),
    interceptorFloor: constantInterceptorClient(servers, authorization),
    channelCredentials: channelCredentialsClient(servers, tokens),
  };
  const messages = plan.bidiMessagesPerSample;
  const measure = (variant: Variant) => async (): Promise<Sample> => {
    const cpuBefore = process.cpuUsage();
    const messagesPerSecond = await bidiMessagesPerSecond(clients[variant], messages, plan.concurrency);
    const cpu = process.cpuUsage(cpuBefore);
    return { messagesPerSecond, cpuMicrosPerMessage: (cpu.user + cpu.system) / messages };
  };
  try {
    for (const variant of Object.keys(clients) as Variant[]) await measure(variant)();
    const rounds = plan.bidiRounds;
    const samples = await alternate(rounds, {
      staticHeader: measure('staticHeader'),
      interceptor: measure('interceptor'),
      interceptorFloor: measure('interceptorFloor'),
      channelCredentials: measure('channelCredentials'),
    });
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
        reference: { label: labels.staticHeader, value: summarize(throughput('staticHeader')) },
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
  } finally {
    for (const bench of Object.values(clients)) bench.client.close();
  }
}
