// V8 profiles of this process, taken through the inspector (so that only the calls of interest are
// in them), and what they say per call: CPU self time, or bytes allocated, by function.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { HeapProfiler, Profiler, Runtime } from 'node:inspector';

export type ProfileKind = 'cpu' | 'heap';

/** `name file:line`, with the path shortened to the package or to src/ and bench/. */
function siteOf({ functionName, url, lineNumber }: Runtime.CallFrame): string {
  const file = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/');
  return `${functionName || '(anonymous)'}${file === '' ? '' : ` ${file}:${lineNumber + 1}`}`;
}

/**
 * Starts a profile of `kind`; the function it returns stops it and writes it to `file` (Chrome
 * DevTools opens both kinds). CPU: sampled every 100 µs. Heap: a sampling profile of every
 * allocation, collected garbage included, every 128 bytes on average.
 */
export async function startProfile(kind: ProfileKind): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  if (kind === 'cpu') {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  } else {
    await session.post('HeapProfiler.enable');
    // A small interval, and collected objects kept in the profile: per-call garbage is what this is
    // about. Node 20's V8 takes the two `include` flags; its protocol types do not list them yet.
    const sampling: HeapProfiler.StartSamplingParameterType & Record<string, unknown> = {
      samplingInterval: 128,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    };
    await session.post('HeapProfiler.startSampling', sampling);
  }
  return async (file) => {
    const { profile } =
      kind === 'cpu' ? await session.post('Profiler.stop') : await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    await writeFile(file, JSON.stringify(profile));
  };
}

/** Per call, by function: µs of CPU self time (a CPU profile) or bytes allocated (a heap profile). */
export function perCallBySite(kind: ProfileKind, profile: unknown, calls: number): Map<string, number> {
  const bySite = new Map<string, number>();
  const add = (frame: Runtime.CallFrame, amount: number): void => {
    const site = siteOf(frame);
    bySite.set(site, (bySite.get(site) ?? 0) + amount / calls);
  };
  if (kind === 'cpu') {
    const { nodes, samples = [], startTime, endTime } = profile as Profiler.Profile;
    const microsPerSample = samples.length === 0 ? 0 : (endTime - startTime) / samples.length;
    for (const node of nodes) add(node.callFrame, (node.hitCount ?? 0) * microsPerSample);
  } else {
    const visit = (node: HeapProfiler.SamplingHeapProfileNode): void => {
      add(node.callFrame, node.selfSize);
      node.children.forEach(visit);
    };
    visit((profile as HeapProfiler.SamplingHeapProfile).head);
  }
  return bySite;
}

/** The sites of `bySite`, largest first. */
export function largestFirst(bySite: ReadonlyMap<string, number>): [string, number][] {
  return [...bySite].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
}
