// Heap growth after 1,000,000 cached getToken() calls and 100,000 RPCs, measured after full
// garbage collections in a process of its own (memory/main.ts, started with --expose-gc).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Figure } from '../lib/figure.js';
import { summarize } from '../lib/stats.js';
import type { MemoryReport, MemoryRequest } from '../memory/protocol.js';
import type { Plan } from '../plan.js';
import type { ServerAddresses } from '../server/server-process.js';

const entry = fileURLToPath(new URL('../memory/main.ts', import.meta.url));
const megabyte = 1024 * 1024;

function runMemoryProcess(request: MemoryRequest): Promise<MemoryReport> {
  const child = fork(entry, [], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (report: MemoryReport) => resolve(report));
    child.once('exit', (code) =>
      reject(new Error(`memory benchmark process exited with code ${code} before reporting`)),
    );
    child.send(request);
  });
}

/** `type ×count` for the resource types whose count changed. */
function resourceChanges(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>): string {
  const types = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changes = [...types]
    .filter((type) => before[type] !== after[type])
    .map((type) => `${type} ${before[type] ?? 0}→${after[type] ?? 0}`);
  return changes.length === 0 ? 'none' : changes.join(', ');
}

export async function memory(servers: ServerAddresses, plan: Plan): Promise<Figure[]> {
  const report = await runMemoryProcess({
    servers: { grpcAddress: servers.grpcAddress, tokenEndpoint: servers.tokenEndpoint, caCert: servers.caCert },
    concurrency: plan.concurrency,
    getTokenCalls: plan.memoryGetTokenCalls,
    rpcs: plan.memoryRpcs,
  });
  const mb = (bytes: number): number => bytes / megabyte;
  const growth = mb(report.heapAfterRpcs - report.heapAfterWarmup);
  const phases = [
    `getToken() ${mb(report.heapAfterGetToken - report.heapAfterWarmup).toFixed(2)} MB`,
    `first half of the RPCs ${mb(report.heapAfterFirstHalfOfRpcs - report.heapAfterGetToken).toFixed(2)} MB`,
    `second half ${mb(report.heapAfterRpcs - report.heapAfterFirstHalfOfRpcs).toFixed(2)} MB`,
  ];
  return [
    {
      id: 'memory.heap-growth',
      title: `heap growth after ${plan.memoryGetTokenCalls.toLocaleString('en-US')} getToken() and ${plan.memoryRpcs.toLocaleString('en-US')} RPCs, after GC`,
      unit: 'MB',
      ours: summarize([growth]),
      rounds: 1,
      goal: '< 2 MB',
      met: growth < 2,
      note:
        `by phase: ${phases.join(', ')}; RPCs half through the interceptor, half through channel credentials; ` +
        `active resources changed: ${resourceChanges(report.resourcesBefore, report.resourcesAfter)}; ` +
        `TokenManager listeners ${report.listenersBefore}→${report.listenersAfter}`,
    },
  ];
}
