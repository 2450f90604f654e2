// The receiving side's CPU per unary call: the server process's own CPU time (process.cpuUsage()
// around each round, in that process) over the calls its handler answered, for each interceptor
// variant of auth-server/protocol.ts, rotated round by round on one TLS connection (one mutual-TLS
// connection for the mTLS variants). The client runs in the bench process and sends one RS256
// access token from oidc-provider as a static header.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { AuthServerProcess } from '../auth-server/auth-server-process.js';
import { refusedVariants, serverVariants, type ServerVariant } from '../auth-server/protocol.js';
import { closeClients, type BenchClient } from '../clients.js';
import { closedLoop } from '../lib/calls.js';
import type { Figure } from '../lib/figure.js';
import { alternateEach } from '../lib/rounds.js';
import { ratios, summarize } from '../lib/stats.js';
import type { Plan } from '../plan.js';

const labels: Readonly<Record<ServerVariant, string>> = {
  passThrough: 'pass-through',
  passThroughTwin: 'pass-through (second)',
  sdkCached: 'SDK, cached',
  sdkUncached: 'SDK, uncached',
  diy: 'diy (jose per call)',
  sdkOpaqueCached: 'SDK, opaque token, cached introspection',
  sdkOpaqueFlood: 'SDK, a new made-up opaque token per call',
  sdkMtlsUnbound: 'SDK, cached, mutual TLS, unbound token',
  sdkMtlsBound: 'SDK, cached, mutual TLS, certificate-bound token',
  passThroughMtls: 'pass-through, mutual TLS',
  authzPolicy50: 'A43 policy of 50 rules, mutual TLS',
  authzPolicy1: 'A43 policy of 1 rule, mutual TLS',
};

/** Per call: the server's CPU time in µs, the bytes it allocated, and its garbage collections' time in µs. */
interface Sample {
  readonly cpuMicros: number;
  readonly allocatedBytes: number;
  readonly gcMicros: number;
}

const units: Readonly<Record<keyof Sample, string>> = {
  cpuMicros: 'µs server CPU/call',
  allocatedBytes: 'server bytes/call',
  gcMicros: 'µs server GC/call',
};

/** A sample of `calls` calls through `variant`. */
async function sample(
  server: AuthServerProcess,
  client: BenchClient,
  variant: ServerVariant,
  calls: number,
  concurrency: number,
): Promise<Sample> {
  await server.begin(variant);
  const result = await closedLoop(client, { concurrency, stop: { calls } });
  const count = await server.end();
  if (refusedVariants.has(variant)) {
    if (result.failures !== result.calls || count.calls !== 0)
      throw new Error(`server benchmark, ${variant}: ${result.calls - result.failures} calls were not refused`);
    return {
      cpuMicros: count.cpuMicros / result.calls,
      allocatedBytes: count.allocatedBytes / result.calls,
      gcMicros: count.gcMicros / result.calls,
    };
  }
  if (result.failures > 0)
    throw new Error(`server benchmark, ${variant}: ${result.failures} calls failed: ${result.firstError?.message}`);
  if (count.calls !== result.calls)
    throw new Error(`server benchmark, ${variant}: the handler answered ${count.calls} of ${result.calls} calls`);
  return {
    cpuMicros: count.cpuMicros / count.calls,
    allocatedBytes: count.allocatedBytes / count.calls,
    gcMicros: count.gcMicros / count.calls,
  };
}

export async function serverCpu(plan: Plan): Promise<Figure[]> {
  const server = await AuthServerProcess.start();
  try {
    const clients = await server.openClients(serverVariants);
    try {
      const flood = floodClient(clients.sdkOpaqueFlood);
      const measure = (variant: ServerVariant, calls: number): Promise<Sample> =>
        sample(server, refusedVariants.has(variant) ? flood : clients[variant], variant, calls, plan.concurrency);
      for (const variant of serverVariants) await measure(variant, plan.serverWarmupCalls);
      const samples = await alternateEach(plan.serverRounds, serverVariants, (variant) =>
        measure(variant, plan.serverCallsPerSample),
      );
      return figures(samples, plan.serverRounds);
    } finally {
      closeClients(clients);
    }
  } finally {
    await server.stop();
  }
}

/** `client`'s connection with a new made-up opaque token on every call (43 characters, as real ones). */
function floodClient(client: BenchClient): BenchClient {
  return {
    client: client.client,
    metadata() {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${randomBytes(32).toString('base64url')}`);
      return metadata;
    },
  };
}

function figures(samples: Readonly<Record<ServerVariant, Sample[]>>, rounds: number): Figure[] {
  const of = (variant: ServerVariant, what: keyof Sample): number[] => samples[variant].map((s) => s[what]);
  const compare = (
    what: keyof Sample,
    id: string,
    title: string,
    [ours, reference]: readonly [ServerVariant, ServerVariant],
    goal?: number,
    note?: string,
  ): Figure => {
    const ratio = ratios(of(ours, what), of(reference, what));
    return {
      id,
      title,
      unit: units[what],
      ours: summarize(of(ours, what)),
      reference: { label: labels[reference], value: summarize(of(reference, what)) },
      ratio,
      rounds,
      goal: goal === undefined ? undefined : `ratio ≤ ${goal}`,
      met: goal === undefined ? undefined : ratio.median <= goal,
      note,
    };
  };
  const baseline = summarize(of('passThrough', 'cpuMicros')).median.toFixed(0);
  return [
    compare(
      'cpuMicros',
      'server.a-a',
      'server CPU per unary call, pass-through vs the same (A/A)',
      ['passThroughTwin', 'passThrough'],
      undefined,
      'two identical pass-through interceptors: how far apart the same thing measures, the resolution of every server CPU ratio',
    ),
    compare(
      'cpuMicros',
      'server.cached',
      'server CPU per unary call, SDK (verified-token cache) vs pass-through',
      ['sdkCached', 'passThrough'],
      1.03,
      `the server process's CPU (user + system) per call; pass-through ${baseline} µs; ` +
        'RS256 access tokens from oidc-provider, TLS on loopback; the server runs bundled JavaScript, not tsx',
    ),
    compare('cpuMicros', 'server.uncached', 'server CPU per unary call, SDK without cache vs pass-through', [
      'sdkUncached',
      'passThrough',
    ]),
    compare('cpuMicros', 'server.diy', 'server CPU per unary call, do-it-yourself (jose per call) vs pass-through', [
      'diy',
      'passThrough',
    ]),
    compare(
      'cpuMicros',
      'server.uncached-vs-diy',
      'server CPU per unary call, SDK without cache vs do-it-yourself',
      ['sdkUncached', 'diy'],
      1,
    ),
    compare(
      'cpuMicros',
      'server.opaque-cached',
      'server CPU per unary call, opaque token (cached introspection answer) vs cached JWT',
      ['sdkOpaqueCached', 'sdkCached'],
      1.05,
    ),
    compare(
      'cpuMicros',
      'server.opaque-flood',
      'server CPU per refused call, a new made-up opaque token each, vs a pass-through call',
      ['sdkOpaqueFlood', 'passThrough'],
      undefined,
      'each refused call costs one introspection request (oidc-provider answers inactive) unless maxConcurrentRequests (64) are in flight; the refusal is cached for inactiveCacheSec',
    ),
    compare(
      'cpuMicros',
      'server.bound',
      'server CPU per unary call, certificate-bound token (thumbprint check) vs unbound, same mutual-TLS connection',
      ['sdkMtlsBound', 'sdkMtlsUnbound'],
      1.02,
      "RFC 8705 §3: both tokens from oidc-provider, the bound one from its mTLS token endpoint (cnf x5t#S256 of the bench client's certificate); " +
        "the server's mTLS port (createMtlsServerCredentials) reads a connection's certificate once, so per call the check looks up the connection's thumbprint; " +
        'resolution as server.a-a',
    ),
    compare(
      'cpuMicros',
      'server.authz',
      'server CPU per unary call, A43 authorization policy of 50 rules vs no policy, same mutual-TLS connection',
      ['authzPolicy50', 'passThroughMtls'],
      1.05,
      'createAuthorizationPolicyInterceptor alone (no token check): 10 deny rules and 40 allow rules over paths, headers and principals, ' +
        "the bench client's certificate (subject CN=bench) admitted by the last allow rule only; resolution as server.a-a",
    ),
    compare(
      'cpuMicros',
      'server.authz-rules',
      'server CPU per unary call, A43 policy of 50 rules vs of 1 rule, same mutual-TLS connection',
      ['authzPolicy50', 'authzPolicy1'],
      undefined,
      "what the 50 rules cost apart from deciding at the call's metadata (the 1-rule policy: one empty allow rule, no principal read)",
    ),
    compare(
      'cpuMicros',
      'server.authz-decide',
      'server CPU per unary call, A43 policy of 1 rule vs no policy, same mutual-TLS connection',
      ['authzPolicy1', 'passThroughMtls'],
      undefined,
      "what an interceptor that decides at the call's metadata costs in grpc-js, whatever it decides (compare server.cached)",
    ),
    compare(
      'cpuMicros',
      'server.mtls',
      'server CPU per unary call, SDK (cached) over mutual TLS vs over TLS',
      ['sdkMtlsUnbound', 'sdkCached'],
      undefined,
      'what mutual TLS itself costs per call, with the same unbound token: the handshakes are in the warm-up, so this is the per-call part ' +
        "(the mTLS port's credentials add an interceptor that answers getAuthContext() per connection)",
    ),
    compare(
      'allocatedBytes',
      'server.alloc.cached',
      'server bytes allocated per unary call, SDK (cached) vs pass-through',
      ['sdkCached', 'passThrough'],
      undefined,
      "the server's JavaScript heap, same samples: a count, steady under load, that explains server.cached",
    ),
    compare(
      'gcMicros',
      'server.gc.cached',
      'server GC time per unary call, SDK (cached) vs pass-through',
      ['sdkCached', 'passThrough'],
      undefined,
      "main-thread time of the server's garbage collections (v8.GCProfiler), part of the CPU time above",
    ),
    compare(
      'allocatedBytes',
      'server.alloc.uncached-vs-diy',
      'server bytes allocated per unary call, SDK without cache vs do-it-yourself',
      ['sdkUncached', 'diy'],
    ),
  ];
}
