// The reload figure: a policy file rewritten back and forth between two policies while calls
// keep coming, 200 per simulated second (one every 5 ms of a ManualClock that also drives the file
// watcher), all four call kinds over TLS on one channel. The two policies decide a known set of calls
// differently, and two calls are denied by each policy but allowed by a mix of one's deny rules and
// the other's allow rules: every call must end as the old or the new policy decides it (exactly as
// the policy in effect when it started, if no reload came while it was in flight), and none may fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createAuthzCertificates } from '../helpers/authz-certificates.js';
import { outcomeOf, startAuthzServer } from '../helpers/authz-server.js';
import { callTypes, type CallResult, type CallType } from '../helpers/grpc-fixture.js';
import { refreshIntervalMs, watchPolicy } from '../helpers/watched-policy.js';

const headers = (...values: string[]) => [{ key: 'key-k', values }];
/** Denies b and f; allows a, b, f, g. */
const oldPolicy = {
  name: 'old',
  deny_rules: [{ name: 'deny_old', request: { headers: headers('b', 'f') } }],
  allow_rules: [{ name: 'allow_old', request: { headers: headers('a', 'b', 'f', 'g') } }],
};
/** Denies a and e; allows a, c, e, g. */
const newPolicy = {
  name: 'new',
  deny_rules: [{ name: 'deny_new', request: { headers: headers('a', 'e') } }],
  allow_rules: [{ name: 'allow_new', request: { headers: headers('a', 'c', 'e', 'g') } }],
};
const policies = [oldPolicy, newPolicy] as const;

type Outcome = 'OK' | 'DENIED';
/**
 * What each policy decides for each value of `key-k`: a flips to DENIED, c to OK, b stays DENIED, g
 * stays OK; e and f stay DENIED, where old deny rules with new allow rules (e) or new deny rules with
 * old allow rules (f) would allow them.
 */
const decides: Readonly<Record<string, readonly [Outcome, Outcome]>> = {
  a: ['OK', 'DENIED'],
  b: ['DENIED', 'DENIED'],
  c: ['DENIED', 'OK'],
  e: ['DENIED', 'DENIED'],
  f: ['DENIED', 'DENIED'],
  g: ['OK', 'OK'],
};
const values = Object.keys(decides);
const kinds = Object.keys(callTypes) as CallType[];

const callsPerSecond = 200;
const stepMs = 1000 / callsPerSecond;
const seconds = 7;
/** When the file is rewritten (simulated ms): each half way between two re-reads. */
const rewrites = [1_500, 3_500, 5_500];
const inFlightLimit = 100;

interface Sent {
  readonly value: string;
  readonly kind: CallType;
  /** How many reloads had happened when the call started, and when it ended. */
  readonly reloadsAtStart: number;
  reloadsAtEnd?: number;
  result?: CallResult;
}

test('policy reload under load: 200 calls per simulated second, three swaps, 0 failed and 0 wrongly decided calls', async (t) => {
  const watched = await watchPolicy(t, oldPolicy);
  const server = await startAuthzServer(t, await createAuthzCertificates(), watched.interceptor);
  const client = server.client('tls');
  const sent: Sent[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  for (let step = 0; step < (seconds * 1000) / stepMs; step++) {
    const at = step * stepMs;
    if (rewrites.includes(at)) await watched.write(policies[(rewrites.indexOf(at) + 1) % 2]!);
    const call: Sent = {
      value: values[step % values.length]!,
      kind: kinds[step % kinds.length]!,
      reloadsAtStart: watched.reloads.length,
    };
    sent.push(call);
    const metadata = new grpc.Metadata();
    metadata.set('key-k', call.value);
    const done = callTypes[call.kind](client, { metadata }).then((result) => {
      call.result = result;
      call.reloadsAtEnd = watched.reloads.length;
      inFlight.delete(done);
    });
    inFlight.add(done);
    if (inFlight.size >= inFlightLimit) await Promise.race(inFlight);
    await watched.clock.advance(stepMs);
  }
  await Promise.all(inFlight);
  const realMs = Date.now() - started;

  assert.deepEqual(
    watched.reloads.map((event) => (event.ok ? event.policyName : event.error.message)),
    ['new', 'old', 'new'],
    `the file was reloaded after each rewrite (re-read every ${refreshIntervalMs} ms)`,
  );
  const failed = sent.filter((call) => !['OK', 'DENIED'].includes(outcomeOf(call.result!.error)));
  let wrong = 0;
  let acrossSwap = 0;
  for (const call of sent) {
    const outcome = outcomeOf(call.result!.error);
    // The policy in effect after n reloads: old, new, old, new.
    const possible = new Set<string>();
    for (let n = call.reloadsAtStart; n <= call.reloadsAtEnd!; n++) possible.add(decides[call.value]![n % 2]!);
    if (call.reloadsAtEnd !== call.reloadsAtStart) acrossSwap++;
    if (!possible.has(outcome)) wrong++;
  }
  const swapped = sent.filter((call) => call.reloadsAtStart > 0 && call.value === 'a');
  t.diagnostic(
    `reload under load: ${sent.length} calls (${callsPerSecond} per simulated second, ${seconds} s, four call kinds, TLS), ` +
      `${watched.reloads.length} swaps, ${acrossSwap} calls in flight across a swap; ` +
      `failed ${failed.length}, wrongly decided ${wrong}; ${realMs} ms real time`,
  );
  assert.equal(failed.length, 0, `failed: ${failed.map((call) => outcomeOf(call.result!.error)).join('; ')}`);
  assert.equal(wrong, 0);
  assert.ok(swapped.length > 0 && sent.every((call) => call.reloadsAtEnd! >= call.reloadsAtStart));
});
