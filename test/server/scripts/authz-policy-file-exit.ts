// Run by authz-interceptor-reload.test.ts in a child process: creates the A43 interceptor over the policy
// file named by argv[2] (system clock, re-read every 100 ms) and prints a line. The process must then end
// on its own: the re-read timer may not keep it alive.
import { createAuthorizationPolicyInterceptor } from 'grpc-oauth2-credentials/server';

const authz = createAuthorizationPolicyInterceptor({ policyFile: process.argv[2]!, refreshIntervalMs: 100 });
console.log(`created ${authz.policyName}`);
