// How much each benchmark does. The full plan keeps `npm run bench` under about four minutes on a
// 2-core machine; `--quick` runs every figure in a fraction of that, to check the bench itself.

export interface Plan {
  /** Calls in flight at once, for the throughput and latency figures. */
  readonly concurrency: number;
  /**
   * Rounds of the unary comparison, each variant once per round; a multiple of the variant count (8)
   * keeps the order of the rounds balanced (see lib/rounds.ts).
   */
  readonly throughputRounds: number;
  /** Unary calls per variant per round. */
  readonly unaryCallsPerSample: number;
  /** Unary calls per variant before measuring, so that the JIT has compiled every path. */
  readonly warmupCalls: number;
  /** Rounds of the bytes-allocated-per-call comparison, a multiple of its variant count (4). */
  readonly allocationRounds: number;
  /** Unary calls per variant per round of it, and how many are in flight at once. */
  readonly allocationCallsPerSample: number;
  readonly allocationConcurrency: number;
  /** Rounds of the bidi comparison, and messages per stream per round. */
  readonly bidiRounds: number;
  readonly bidiMessagesPerSample: number;
  /** Rounds of the do-it-yourself comparisons that count token requests and failed calls. */
  readonly peerRounds: number;
  /** Rounds of the latency-across-a-refresh comparison (four runs each). */
  readonly latencyRounds: number;
  /** Rounds of the getToken() against Map comparison, and calls per round. */
  readonly getTokenRounds: number;
  readonly getTokenCallsPerSample: number;
  /** Memory: getToken() calls and RPCs between the heap snapshots. */
  readonly memoryGetTokenCalls: number;
  readonly memoryRpcs: number;
  /** Refresh cycles under steady calls. */
  readonly refreshCycles: number;
  /** Fleet: managers, and how many times each refreshes. */
  readonly fleetManagers: number;
  readonly fleetRefreshes: number;
  readonly fleetRounds: number;
  /** Shared token cache on Redis: managers in the fleet, and refresh cycles of 2 s tokens. */
  readonly sharedCacheManagers: number;
  readonly sharedCacheCycles: number;
  /**
   * Server CPU per call: rounds of the interceptor variants (each once per round, rotated), unary
   * calls per variant per round, and calls per variant before the rounds.
   */
  readonly serverRounds: number;
  readonly serverCallsPerSample: number;
  readonly serverWarmupCalls: number;
}

export const fullPlan: Plan = {
  concurrency: 50,
  throughputRounds: 24,
  unaryCallsPerSample: 3_000,
  warmupCalls: 6_000,
  allocationRounds: 12,
  allocationCallsPerSample: 3_000,
  allocationConcurrency: 50,
  bidiRounds: 12,
  bidiMessagesPerSample: 20_000,
  peerRounds: 3,
  latencyRounds: 8,
  getTokenRounds: 10,
  getTokenCallsPerSample: 1_000_000,
  memoryGetTokenCalls: 1_000_000,
  memoryRpcs: 100_000,
  refreshCycles: 1_000,
  fleetManagers: 10_000,
  fleetRefreshes: 10,
  fleetRounds: 3,
  sharedCacheManagers: 20,
  sharedCacheCycles: 10,
  serverRounds: 16,
  serverCallsPerSample: 3_000,
  serverWarmupCalls: 3_000,
};

export const quickPlan: Plan = {
  ...fullPlan,
  throughputRounds: 2,
  unaryCallsPerSample: 1_000,
  warmupCalls: 1_000,
  allocationRounds: 4,
  allocationCallsPerSample: 1_000,
  bidiRounds: 2,
  bidiMessagesPerSample: 2_000,
  peerRounds: 1,
  latencyRounds: 1,
  getTokenRounds: 3,
  getTokenCallsPerSample: 100_000,
  memoryGetTokenCalls: 100_000,
  memoryRpcs: 5_000,
  refreshCycles: 50,
  fleetManagers: 1_000,
  fleetRounds: 1,
  sharedCacheCycles: 2,
  serverRounds: 2,
  serverCallsPerSample: 1_000,
  serverWarmupCalls: 1_000,
};
