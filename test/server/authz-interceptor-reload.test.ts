// The policy file that reloads itself (createAuthorizationPolicyInterceptor({ policyFile })), on a
// real grpc-js server with a ManualClock: a bad first load is an error, a changed valid policy is
// swapped in, a bad one keeps the last good policy (and its audit settings) and is reported once, an
// unchanged file is not parsed again, a file missing once is tolerated, the timer never keeps the
// process alive.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  createAuthorizationPolicyInterceptor,
  AuthConfigError,
  type AuditRecord,
  type AuthorizationPolicyInterceptorOptions,
  type PolicyReloadEvent,
} from '../../src/server/index.js';
import type { ManualClock } from '../../src/testing/index.js';
import { unary } from '../helpers/grpc-fixture.js';
import { collectWarnings, warningsEmitted } from '../helpers/grpc-fixture.js';
import { invalidOption } from '../helpers/config-error.js';
import { runChild, startChild } from '../helpers/child-process.js';
import { createClock, createTempDir, until } from '../helpers/token-fixtures.js';
import { policyOf, startPolicyServer } from './authz-fixture.js';

const refreshIntervalMs = 1_000;
const denyAll = policyOf([{ name: 'allow_all' }], [{ name: 'deny_all' }]);
const allowUnary = policyOf([{ name: 'allow_unary', request: { paths: ['/test.v1.Echo/Unary'] } }]);

interface Scene {
  readonly clock: ManualClock;
  readonly file: string;
  readonly events: PolicyReloadEvent[];
  readonly records: AuditRecord[];
  write(policy: unknown): Promise<void>;
  /** Moves the clock one interval on and waits until that re-read has finished (its next timer is set). */
  reread(): Promise<void>;
  /** The status code a unary call ends with (0: OK). */
  call(): Promise<number>;
}

async function scene(t: TestContext, first: unknown, extra: Partial<AuthorizationPolicyInterceptorOptions> = {}) {
  const dir = await createTempDir(t, 'authz-policy-');
  const file = join(dir, 'policy.json');
  const write = (policy: unknown) => writeFile(file, typeof policy === 'string' ? policy : JSON.stringify(policy));
  await write(first);
  const clock = createClock();
  const events: PolicyReloadEvent[] = [];
  const records: AuditRecord[] = [];
  const authz = createAuthorizationPolicyInterceptor({
    policyFile: file,
    refreshIntervalMs,
    clock,
    onReload: (event) => events.push(event),
    onAudit: (record) => records.push(record),
    ...extra,
  });
  t.after(() => authz.close());
  const server = await startPolicyServer(t, [authz]);
  const client = server.client();
  const s: Scene = {
    clock,
    file,
    events,
    records,
    write,
    async reread() {
      await clock.advance(refreshIntervalMs);
      await until(() => clock.pendingTimers === 1);
    },
    call: async () => (await unary(client)).error?.code ?? grpc.status.OK,
  };
  return { ...s, authz };
}

/** The error of a failed reload event (and that it is one). */
function failureOf(event: PolicyReloadEvent | undefined): Error {
  assert.ok(event !== undefined && !event.ok, 'a failed reload');
  return event.error;
}

test('a changed valid policy is swapped in at the next re-read, and reported', async (t) => {
  const s = await scene(t, denyAll);
  assert.equal(await s.call(), grpc.status.PERMISSION_DENIED);
  await s.write(allowUnary);
  await s.clock.advance(refreshIntervalMs - 1);
  assert.equal(await s.call(), grpc.status.PERMISSION_DENIED, 'not before the interval');
  await s.reread();
  assert.equal(await s.call(), grpc.status.OK);
  assert.deepEqual(s.events, [{ ok: true, policyName: 'authz' }]);
  assert.equal(s.authz.policyName, 'authz');
});

test('an invalid reload keeps the last good policy and its audit settings, is reported once, and recovers', async (t) => {
  const audited = policyOf([{ name: 'allow_unary', request: { paths: ['*/Unary'] } }], undefined, {
    audit_condition: 'ON_ALLOW',
  });
  const s = await scene(t, audited);
  const warnings = collectWarnings(t, 'AuthorizationPolicyReloadWarning');
  assert.equal(await s.call(), grpc.status.OK);
  await s.write('{}');
  await s.reread();
  await s.reread(); // the same bad bytes: not parsed or reported again
  await warningsEmitted();
  assert.equal(s.events.length, 1);
  const error = failureOf(s.events[0]);
  assert.ok(error instanceof AuthConfigError);
  assert.match(error.message, new RegExp(`policyFile ${s.file}.*name`));
  assert.equal(warnings.length, 1);
  assert.equal((warnings[0] as NodeJS.ErrnoException).code, 'GRPC_OAUTH2_POLICY_NOT_RELOADED');
  assert.match(warnings[0]!.message, /kept the last good policy "authz"/);

  assert.equal(await s.call(), grpc.status.OK, 'the old policy decides');
  assert.deepEqual(
    s.records.map((r) => [r.authorized, r.matched_rule]),
    [
      [true, 'allow_unary'],
      [true, 'allow_unary'],
    ],
    'and the old audit settings log',
  );

  await s.write(
    policyOf(
      [{ name: 'allow_foo', request: { paths: ['*/foo'] } }],
      [{ name: 'deny_unary', request: { paths: ['*/Unary'] } }],
      {
        audit_condition: 'ON_DENY',
      },
    ),
  );
  await s.reread();
  assert.deepEqual(s.events.at(-1), { ok: true, policyName: 'authz' });
  assert.equal(await s.call(), grpc.status.PERMISSION_DENIED);
  assert.deepEqual(s.records.map((r) => [r.authorized, r.matched_rule]).at(-1), [false, 'deny_unary']);
});

test('an unchanged file is not parsed again: rewriting the same bytes reports nothing', async (t) => {
  const s = await scene(t, denyAll);
  for (let round = 0; round < 3; round++) {
    await s.write(denyAll);
    await s.reread();
  }
  assert.deepEqual(s.events, []);
});

test('a file missing at one re-read is tolerated (a rename in progress); missing at the next, it is reported once', async (t) => {
  const s = await scene(t, denyAll);
  const warnings = collectWarnings(t, 'AuthorizationPolicyReloadWarning');
  await rename(s.file, `${s.file}.tmp`);
  await s.reread();
  await rename(`${s.file}.tmp`, s.file);
  await s.reread();
  assert.deepEqual(s.events, [], 'missing once, then back: nothing to say');

  await rm(s.file);
  await s.reread();
  assert.deepEqual(s.events, []);
  await s.reread();
  await s.reread();
  await warningsEmitted();
  assert.equal(s.events.length, 1);
  assert.match(
    failureOf(s.events[0]).message,
    new RegExp(`^createAuthorizationPolicyInterceptor: policyFile ${s.file} does not exist$`),
  );
  assert.equal(warnings.length, 1);
  assert.equal(await s.call(), grpc.status.PERMISSION_DENIED, 'the last good policy stays');

  await s.write(allowUnary);
  await s.reread();
  assert.deepEqual(s.events.at(-1), { ok: true, policyName: 'authz' });
  assert.equal(await s.call(), grpc.status.OK);
});

test('a hook that throws reaches neither grpc-js nor the process; close() stops the re-reads', async (t) => {
  const s = await scene(t, denyAll, {
    onReload: () => {
      throw new Error('hook failed');
    },
  });
  await s.write(allowUnary);
  await s.reread();
  assert.equal(await s.call(), grpc.status.OK);
  s.authz.close();
  assert.equal(s.clock.pendingTimers, 0);
});

test('a bad first load is an AuthConfigError naming the file and the problem', async (t) => {
  const dir = await createTempDir(t, 'authz-policy-');
  const file = join(dir, 'policy.json');
  const clock = createClock();
  const create = () => createAuthorizationPolicyInterceptor({ policyFile: file, refreshIntervalMs, clock });
  assert.throws(create, invalidOption(`createAuthorizationPolicyInterceptor: policyFile ${file} does not exist`));
  await writeFile(file, JSON.stringify({ allow_rules: [{ name: 'all' }] }));
  assert.throws(create, invalidOption(new RegExp(`^createAuthorizationPolicyInterceptor: policyFile ${file}.*name`)));
  assert.throws(
    () => createAuthorizationPolicyInterceptor({ policyFile: dir, refreshIntervalMs, clock }),
    invalidOption(`createAuthorizationPolicyInterceptor: policyFile ${dir} cannot be read (EISDIR)`),
  );
  assert.equal(clock.pendingTimers, 0, 'no timer left behind');
});

test('the re-read timer does not keep the process alive', async (t) => {
  const dir = await createTempDir(t, 'authz-policy-');
  const file = join(dir, 'policy.json');
  await writeFile(file, JSON.stringify(denyAll));
  const child = startChild(t, 'test/server/scripts/authz-policy-file-exit.ts', [file]);
  // The script re-reads every 100 ms: ten seconds is a hundred re-reads, ended by this test if need be.
  const stuck = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
  const result = await child.result.finally(() => clearTimeout(stuck));
  assert.equal(result.signal, null, 'the process did not end by itself within 10 s');
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'created authz');
});

test('reloads are NODE_DEBUG=grpc-oauth2 lines, and a bad one also a GRPC_OAUTH2_POLICY_NOT_RELOADED warning', async (t) => {
  const file = join(await createTempDir(t, 'authz-policy-'), 'policy.json');
  const result = await runChild(t, 'test/server/scripts/authz-policy-reload-debug.ts', [file], {
    env: { NODE_DEBUG: 'grpc-oauth2' },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'second');
  const where = 'createAuthorizationPolicyInterceptor';
  const lines = result.stderr.split('\n');
  assert.ok(
    lines.some((line) => line.endsWith(`${where}: loaded policy "second" from policyFile ${file}`)),
    result.stderr,
  );
  const kept = `${where}: kept the last good policy "second": policyFile ${file}`;
  assert.ok(
    lines.some((line) => /^GRPC-OAUTH2 \d+: /.test(line) && line.includes(kept)),
    result.stderr,
  );
  assert.ok(
    lines.some((line) => line.includes(`[GRPC_OAUTH2_POLICY_NOT_RELOADED] AuthorizationPolicyReloadWarning: ${kept}`)),
    result.stderr,
  );
});
