// The memory figure's process: started with --expose-gc, so that the heap can be measured after full garbage
// collections, and apart from the other benchmarks, whose leftovers would blur the figure. It gets
// the server addresses from its parent and sends back a MemoryReport.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { channelCredentialsClient, createTokenManager, interceptorClient, type BenchClient } from '../clients.js';
import { closedLoop } from '../lib/calls.js';
import type { MemoryReport, MemoryRequest } from './protocol.js';

const collect = globalThis.gc;

/** Heap used after garbage collection has nothing left to free. */
async function settledHeapUsed(): Promise<number> {
  if (collect === undefined) throw new Error('the memory benchmark needs node --expose-gc');
  for (let i = 0; i < 4; i++) {
    collect();
    // Lets finalizers and promise jobs that the collection released run before the next pass.
    await nextTurn();
  }
  return process.memoryUsage().heapUsed;
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

async function rpcs(bench: BenchClient, calls: number, concurrency: number): Promise<void> {
  const result = await closedLoop(bench, { concurrency, stop: { calls } });
  if (result.failures > 0)
    throw new Error(`memory benchmark: ${result.failures} calls failed: ${result.firstError?.message}`);
}

async function measure(request: MemoryRequest): Promise<MemoryReport> {
  const tokens = createTokenManager(request.servers);
  const listeners = (): number => tokens.eventNames().reduce((sum, name) => sum + tokens.listenerCount(name), 0);
  const interceptor = interceptorClient(request.servers, tokens);
  const channel = channelCredentialsClient(request.servers, tokens);
  const quarter = Math.round(request.rpcs / 4);
  try {
    // Warm-up: connections, JIT-compiled code and grpc-js's lazily built state exist before the baseline.
    for (const bench of [interceptor, channel]) await rpcs(bench, 5_000, request.concurrency);
    for (let i = 0; i < 100_000; i++) await tokens.getToken();

    const heapAfterWarmup = await settledHeapUsed();
    const resourcesBefore = resourceCounts();
    const listenersBefore = listeners();
    for (let i = 0; i < request.getTokenCalls; i++) await tokens.getToken();
    const heapAfterGetToken = await settledHeapUsed();
    // Half of the RPCs through each way of attaching the token, in two halves, to see a trend.
    await rpcs(interceptor, quarter, request.concurrency);
    await rpcs(channel, quarter, request.concurrency);
    const heapAfterFirstHalfOfRpcs = await settledHeapUsed();
    await rpcs(interceptor, quarter, request.concurrency);
    await rpcs(channel, request.rpcs - 3 * quarter, request.concurrency);
    const heapAfterRpcs = await settledHeapUsed();
    const resourcesAfter = resourceCounts();
    return {
      heapAfterWarmup,
      heapAfterGetToken,
      heapAfterFirstHalfOfRpcs,
      heapAfterRpcs,
      resourcesBefore,
      resourcesAfter,
      listenersBefore,
      listenersAfter: listeners(),
    };
  } finally {
    interceptor.client.close();
    channel.client.close();
    tokens.close();
  }
}

process.once('message', (request: MemoryRequest) => {
  measure(request).then(
    (report) => process.send?.(report, () => process.disconnect()),
    (error: unknown) => {
      console.error('memory benchmark failed:', error);
      process.exit(1);
    },
  );
});
