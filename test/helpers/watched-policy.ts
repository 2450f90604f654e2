// A policy file watched by createAuthorizationPolicyInterceptor on a ManualClock: the tests write the
// file, move the clock one refresh interval, and wait for the interceptor's reload report.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  createAuthorizationPolicyInterceptor,
  type AuditRecord,
  type AuthorizationPolicyInterceptor,
  type PolicyReloadEvent,
} from '../../src/server/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { createTempDir } from './token-fixtures.js';

/** The refresh interval of every watched policy here, in ms of the ManualClock. */
export const refreshIntervalMs = 1_000;

export interface WatchedPolicy {
  readonly interceptor: AuthorizationPolicyInterceptor;
  readonly clock: ManualClock;
  /** Every audit record the interceptor gave its onAudit hook. */
  readonly audited: AuditRecord[];
  /** Every reload report, in order. */
  readonly reloads: PolicyReloadEvent[];
  /** Writes the file: JSON of `policy`, or the text as it is. */
  write(policy: object | string): Promise<void>;
  /** Resolves with the next reload report. */
  nextReload(): Promise<PolicyReloadEvent>;
  /** Writes the file, moves the clock one interval and resolves with the reload's report. */
  rewrite(policy: object | string): Promise<PolicyReloadEvent>;
}

/** Writes `policy` to a new file and watches it (the file and its directory removed when `t` ends). */
export async function watchPolicy(t: TestContext, policy: object | string): Promise<WatchedPolicy> {
  const file = join(await createTempDir(t, 'authz-policy-'), 'policy.json');
  const write = (next: object | string): Promise<void> =>
    writeFile(file, typeof next === 'string' ? next : JSON.stringify(next, null, 2));
  await write(policy);
  const clock = new ManualClock();
  const audited: AuditRecord[] = [];
  const reloads: PolicyReloadEvent[] = [];
  let waiting: ((report: PolicyReloadEvent) => void)[] = [];
  const interceptor = createAuthorizationPolicyInterceptor({
    policyFile: file,
    refreshIntervalMs,
    clock,
    onAudit: (record) => void audited.push(record),
    onReload: (report) => {
      reloads.push(report);
      const woken = waiting;
      waiting = [];
      for (const wake of woken) wake(report);
    },
  });
  t.after(() => interceptor.close());
  const nextReload = (): Promise<PolicyReloadEvent> => new Promise((resolve) => waiting.push(resolve));
  return {
    interceptor,
    clock,
    audited,
    reloads,
    write,
    nextReload,
    async rewrite(next) {
      await write(next);
      const reloaded = nextReload();
      await clock.advance(refreshIntervalMs);
      return reloaded;
    },
  };
}
