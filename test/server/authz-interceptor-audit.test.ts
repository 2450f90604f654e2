// A59 audit logging of the A43 interceptor on a real grpc-js server over mutual TLS: which decisions each
// audit_condition logs (C++'s end-to-end cases), the stdout_logger line (captured and parsed, timestamp
// dropped), the onAudit records, and never a token in either.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createAuthorizationPolicyInterceptor, type AuditRecord } from '../../src/server/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { unary } from '../helpers/grpc-fixture.js';
import { callerSpiffeId, certificates, headers, policyOf, startPolicyServer } from './authz-fixture.js';

const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdWRpdC10ZXN0In0.c2lnbmF0dXJlLXRoYXQtbXVzdC1uZXZlci1sZWFr';
const startMs = Date.UTC(2026, 11, 8, 0, 30, 15, 250);

/** C++'s audit policy: allow key-foo: foo, deny key-bar: bar. */
function auditedPolicy(condition: string, loggers: object[] = [{ name: 'stdout_logger' }]) {
  return policyOf(
    [{ name: 'allow_foo', request: { headers: [{ key: 'key-foo', values: ['foo'] }] } }],
    [{ name: 'deny_bar', request: { headers: [{ key: 'key-bar', values: ['bar'] }] } }],
    { audit_condition: condition, audit_loggers: loggers },
  );
}

/** The four calls of C++'s cases, each with a bearer token and another header that must never be logged. */
const calls: [string, Record<string, string>, number][] = [
  ['match in allow', { 'key-foo': 'foo' }, grpc.status.OK],
  ['no match', { 'key-foo': 'bar' }, grpc.status.PERMISSION_DENIED],
  ['match in deny', { 'key-bar': 'bar' }, grpc.status.PERMISSION_DENIED],
  ['match in both: deny wins', { 'key-foo': 'foo', 'key-bar': 'bar' }, grpc.status.PERMISSION_DENIED],
];

/** Lines the stdout_logger writes while `t` runs (taken off stdout); everything else passes through. */
function captureAuditLines(t: TestContext): string[] {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  const original = Object.getOwnPropertyDescriptor(process.stdout, 'write');
  process.stdout.write = (chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('{"grpc_audit_log"')) {
      lines.push(chunk);
      return true;
    }
    return write(chunk, ...rest);
  };
  t.after(() => {
    if (original === undefined) delete (process.stdout as { write?: unknown }).write;
    else Object.defineProperty(process.stdout, 'write', original);
  });
  return lines;
}

async function run(t: TestContext, policy: object, onAudit?: (record: AuditRecord) => void) {
  const authz = createAuthorizationPolicyInterceptor({ policy, onAudit, clock: new ManualClock(startMs) });
  const server = await startPolicyServer(t, [authz]);
  const { caller } = await certificates();
  const client = server.client(caller);
  for (const [name, values, code] of calls) {
    const metadata = headers({ ...values, authorization: `Bearer ${token}`, 'x-api-key': token });
    assert.equal((await unary(client, { metadata })).error?.code ?? grpc.status.OK, code, name);
  }
}

const expected: Record<string, [boolean, string][]> = {
  NONE: [],
  ON_DENY: [
    [false, ''],
    [false, 'deny_bar'],
    [false, 'deny_bar'],
  ],
  ON_ALLOW: [[true, 'allow_foo']],
  ON_DENY_AND_ALLOW: [
    [true, 'allow_foo'],
    [false, ''],
    [false, 'deny_bar'],
    [false, 'deny_bar'],
  ],
};

for (const [condition, decisions] of Object.entries(expected)) {
  test(`audit_condition ${condition}: at most one record per call, to stdout_logger and onAudit alike`, async (t) => {
    const lines = captureAuditLines(t);
    const records: AuditRecord[] = [];
    await run(t, auditedPolicy(condition), (record) => records.push(record));
    const logged = lines.map((line) => {
      assert.ok(line.endsWith('}\n') && line.indexOf('\n') === line.length - 1, 'one JSON object per line');
      return (JSON.parse(line) as { grpc_audit_log: AuditRecord }).grpc_audit_log;
    });
    const withoutTime = ({ timestamp, ...rest }: AuditRecord) => (void timestamp, rest);
    const want = decisions.map(([authorized, matched_rule]) => ({
      rpc_method: '/test.v1.Echo/Unary',
      principal: callerSpiffeId,
      policy_name: 'authz',
      matched_rule,
      authorized,
    }));
    assert.deepEqual(logged.map(withoutTime), want);
    assert.deepEqual(records.map(withoutTime), want);
    for (const record of [...logged, ...records]) assert.equal(record.timestamp, '2026-12-08T00:30:15.250Z');
    for (const line of lines)
      assert.deepEqual(Object.keys((JSON.parse(line) as { grpc_audit_log: object }).grpc_audit_log), [
        'timestamp',
        'rpc_method',
        'principal',
        'policy_name',
        'matched_rule',
        'authorized',
      ]);
    for (const record of records) assert.ok(Object.isFrozen(record));
    const everything = `${lines.join('')}${JSON.stringify(records)}`;
    assert.ok(!everything.includes(token), 'no token in any record or line');
    assert.ok(!everything.includes(token.split('.')[2]!), 'not even its signature');
  });
}

test('onAudit gets the records whatever loggers the policy lists; nothing goes to stdout without stdout_logger', async (t) => {
  const lines = captureAuditLines(t);
  const records: AuditRecord[] = [];
  await run(t, auditedPolicy('ON_DENY', []), (record) => records.push(record));
  assert.equal(records.length, 3);
  assert.deepEqual(lines, []);
});

test('the principal is the SPIFFE ID of the client certificate, else empty; an onAudit that throws changes nothing', async (t) => {
  const records: AuditRecord[] = [];
  const authz = createAuthorizationPolicyInterceptor({
    policy: auditedPolicy('ON_DENY_AND_ALLOW', []),
    onAudit: (record) => {
      records.push(record);
      throw new Error('logger down');
    },
  });
  const server = await startPolicyServer(t, [authz]);
  const { caller } = await certificates();
  const metadata = () => headers({ 'key-foo': 'foo' });
  assert.equal((await unary(server.client(caller), { metadata: metadata() })).error, undefined);
  assert.equal((await unary(server.client(), { metadata: metadata() })).error, undefined);
  assert.deepEqual(
    records.map((record) => record.principal),
    [callerSpiffeId, ''],
  );
  assert.match(records[0]!.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});
