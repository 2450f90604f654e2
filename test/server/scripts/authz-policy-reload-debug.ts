// Run by authz-interceptor-reload.test.ts in a child process with NODE_DEBUG=grpc-oauth2: writes a policy
// to the file named by argv[2], watches it on a ManualClock, replaces it with a valid policy and then with
// an invalid one, moving the clock one interval after each, and prints the name of the policy in effect.
import { writeFileSync } from 'node:fs';
import { createAuthorizationPolicyInterceptor } from 'grpc-oauth2-credentials/server';
import { ManualClock } from 'grpc-oauth2-credentials/testing';

const file = process.argv[2]!;
const policy = (name: string): string => JSON.stringify({ name, allow_rules: [{ name: 'all' }] });
writeFileSync(file, policy('first'));
const clock = new ManualClock();
const authz = createAuthorizationPolicyInterceptor({ policyFile: file, refreshIntervalMs: 1_000, clock });
async function reread(): Promise<void> {
  await clock.advance(1_000);
  // The re-read has finished when it has set its next timer.
  while (clock.pendingTimers === 0) await new Promise((resolve) => setImmediate(resolve));
}
writeFileSync(file, policy('second'));
await reread();
writeFileSync(file, '{}');
await reread();
console.log(authz.policyName);
authz.close();
