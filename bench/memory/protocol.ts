// What the memory benchmark's process is asked to do, and what it reports.
import type { ServerAddresses } from '../server/server-process.js';

export interface MemoryRequest {
  readonly servers: ServerAddresses;
  readonly concurrency: number;
  readonly getTokenCalls: number;
  readonly rpcs: number;
}

/** Heap used after full garbage collections, in bytes, at each point of the run. */
export interface MemoryReport {
  readonly heapAfterWarmup: number;
  readonly heapAfterGetToken: number;
  readonly heapAfterFirstHalfOfRpcs: number;
  readonly heapAfterRpcs: number;
  /** Active handles and requests (timers, sockets, ...) by type, before and after. */
  readonly resourcesBefore: Readonly<Record<string, number>>;
  readonly resourcesAfter: Readonly<Record<string, number>>;
  /** Listeners on the TokenManager, before and after. */
  readonly listenersBefore: number;
  readonly listenersAfter: number;
}
