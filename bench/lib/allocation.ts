// Bytes allocated on the JavaScript heap while some work runs. Node 20's V8 has no running total of
// allocated bytes (`v8.getHeapStatistics()` lacks `total_allocated_bytes`), but the heap's used size
// only grows between collections, by exactly what was allocated, and `v8.GCProfiler` reports it
// before and after every collection. So: allocated = used at the end − used at the start + what each
// collection in between freed. A count, not a timing: it does not move with the machine's load.
import v8 from 'node:v8';

function usedHeapBytes(): number {
  return v8.getHeapStatistics().used_heap_size;
}

/** What {@link countAllocation} counted. */
export interface AllocationCount {
  /** Bytes allocated on the JavaScript heap. */
  readonly bytes: number;
  /** Time the collections in between took on the main thread (V8's `cost`), in µs. */
  readonly gcMicros: number;
}

/**
 * Starts counting the bytes allocated on the JavaScript heap (by anything running in this process),
 * and the time collections take; the function it returns stops and says how much. Not counted: the
 * backing memory of `Buffer`s and other `ArrayBuffer`s, which lives outside the heap (their
 * JavaScript objects are counted).
 */
export function countAllocation(): () => AllocationCount {
  const profiler = new v8.GCProfiler();
  profiler.start();
  const before = usedHeapBytes();
  return () => {
    const after = usedHeapBytes();
    let freed = 0;
    let gcMicros = 0;
    for (const collection of profiler.stop().statistics) {
      freed += collection.beforeGC.heapStatistics.usedHeapSize - collection.afterGC.heapStatistics.usedHeapSize;
      gcMicros += collection.cost;
    }
    return { bytes: after - before + freed, gcMicros };
  };
}

/** Runs `work` and resolves with the bytes allocated meanwhile (see {@link countAllocation}). */
export async function allocatedBytes(work: () => Promise<void>): Promise<number> {
  const stop = countAllocation();
  await work();
  return stop().bytes;
}
