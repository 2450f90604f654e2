// gRFC A43 interop: the policies and expected results of grpc-go's authz/grpc_authz_end2end_test.go
// (G1–G10, audit GA1–GA4) and C++'s test/cpp/end2end/grpc_authz_end2end_test.cc (C1–C20, file
// watcher C27–C29), written again as our own table of policy, call and expected status, and run on a
// real grpc-js server: plaintext where the upstream case is, else TLS or mutual TLS on 127.0.0.1 with
// certificates made now. Then the cases neither suite has (research note §6c): gRFC A41's principal
// precedence, headers sent twice, `""` and `*` on each transport, all four call kinds.
//
// Method paths map onto the test service: grpc-go's /grpc.testing.TestService/{UnaryCall,
// StreamingInputCall, StreamingOutputCall, FullDuplexCall} and C++'s /grpc.testing.EchoTestService/
// {Echo, ClientStreamingEcho} become /test.v1.Echo/{Unary, ClientStream, ServerStream, Bidi}.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  AuthConfigError,
  createAuthorizationPolicyInterceptor,
  type AuditRecord,
  type PolicyReloadEvent,
} from '../../src/server/index.js';
import { createAuthzCertificates, identities, type AuthzCertificates } from '../helpers/authz-certificates.js';
import { outcomeOf, startAuthzServer, type Transport } from '../helpers/authz-server.js';
import { callTypes, methodPaths, servicePath, type CallType } from '../helpers/grpc-fixture.js';
import { watchPolicy } from '../helpers/watched-policy.js';

const T = servicePath;
const { unary: U, clientStream: CS, serverStream: SS } = methodPaths;

type Outcome = 'OK' | 'DENIED';
type Rule = Record<string, unknown>;

/** One row: a policy, how the client connects and what it sends, and the status of each call kind. */
interface Case {
  readonly id: string;
  readonly title: string;
  readonly allow: readonly Rule[];
  readonly deny?: readonly Rule[];
  readonly transport: Transport;
  readonly headers?: readonly (readonly [string, string | Buffer])[];
  /** The expected outcome per call kind; the kinds upstream made, and the others where we add them. */
  readonly expect: Partial<Record<CallType, Outcome>>;
}

const all = (outcome: Outcome): Record<CallType, Outcome> => ({
  unary: outcome,
  clientStream: outcome,
  serverStream: outcome,
  bidi: outcome,
});
const rule = (name: string, request?: Rule, principals?: readonly string[]): Rule => ({
  name,
  ...(request === undefined ? {} : { request }),
  ...(principals === undefined ? {} : { source: { principals } }),
});
const headers = (entries: Record<string, readonly string[]>) =>
  Object.entries(entries).map(([key, values]) => ({ key, values }));

const goCases: readonly Case[] = [
  {
    id: 'G1',
    title: 'a deny rule matches (path and header), no allow rule does',
    allow: [rule('allow_StreamingOutputCall', { paths: [SS] })],
    deny: [
      rule('deny_TestServiceCalls', { paths: [`${T}/*`], headers: headers({ 'key-abc': ['val-abc', 'val-def'] }) }),
    ],
    transport: 'plaintext',
    headers: [['key-abc', 'val-abc']],
    expect: all('DENIED'),
  },
  {
    id: 'G2',
    title: 'a call matching both a deny and an allow rule is denied',
    allow: [rule('allow_all', { paths: ['*'] })],
    deny: [rule('deny_all', { paths: ['*'] })],
    transport: 'plaintext',
    expect: all('DENIED'),
  },
  {
    id: 'G3',
    title: 'no deny rule matches (header absent), the empty allow rule does',
    allow: [rule('allow_all')],
    deny: [rule('deny_TestServiceCalls', { paths: [U, CS], headers: headers({ 'key-abc': ['val-abc', 'val-def'] }) })],
    transport: 'plaintext',
    headers: [['key-xyz', 'val-xyz']],
    expect: all('OK'),
  },
  {
    id: 'G4',
    title: 'neither matches (a principal rule on plaintext): denied',
    allow: [rule('allow_some_user', undefined, ['some_user'])],
    deny: [rule('deny_StreamingOutputCall', { paths: [SS] })],
    transport: 'plaintext',
    expect: all('DENIED'),
  },
  {
    id: 'G5',
    title: 'no deny rules, allow rules for two methods',
    allow: [rule('allow_UnaryCall', { paths: [U] }), rule('allow_StreamingInputCall', { paths: [CS] })],
    transport: 'plaintext',
    expect: { unary: 'OK', clientStream: 'OK', serverStream: 'DENIED', bidi: 'DENIED' },
  },
  {
    id: 'G6',
    title: 'no deny rules, the allow rule names another method',
    allow: [rule('allow_StreamingOutputCall', { paths: [SS] })],
    transport: 'plaintext',
    expect: { unary: 'DENIED', clientStream: 'DENIED', serverStream: 'OK', bidi: 'DENIED' },
  },
  {
    id: 'G7',
    title: 'principals ["*", ""] on plaintext match nothing',
    allow: [rule('allow_authenticated', undefined, ['*', ''])],
    transport: 'plaintext',
    expect: all('DENIED'),
  },
  {
    id: 'G8',
    title: 'an empty header value fails the presence match "*"',
    allow: [rule('allow_TestServiceCalls', { paths: [`${T}/*`], headers: headers({ 'key-abc': ['*'] }) })],
    transport: 'plaintext',
    headers: [['key-abc', '']],
    expect: { unary: 'DENIED', clientStream: 'DENIED' },
  },
  {
    id: 'G8+',
    title: '(ours) the same rule with a non-empty value passes',
    allow: [rule('allow_TestServiceCalls', { paths: [`${T}/*`], headers: headers({ 'key-abc': ['*'] }) })],
    transport: 'plaintext',
    headers: [['key-abc', 'x']],
    expect: all('OK'),
  },
  {
    id: 'G9',
    title: 'principals ["*", ""] on TLS without a client certificate match through ""',
    allow: [rule('allow_authenticated', undefined, ['*', ''])],
    transport: 'tls',
    expect: all('OK'),
  },
  {
    id: 'G10',
    title: 'principals ["*", ""] on mutual TLS with a subject-only certificate match through "*"',
    allow: [rule('allow_authenticated', undefined, ['*', ''])],
    transport: 'goSubjectOnly',
    expect: all('OK'),
  },
  {
    id: 'G10+',
    title: "(ours) the subject-only certificate's principal is its RFC 2253 subject, as grpc-go writes it",
    allow: [rule('allow_client1', undefined, [identities.goSubject])],
    transport: 'goSubjectOnly',
    expect: all('OK'),
  },
];

const fooBar: Case['headers'] = [
  ['key-foo', 'foo2'],
  ['key-bar', 'bar1'],
  ['key-baz', 'baz1'],
];
const cppCases: readonly Case[] = [
  {
    id: 'C1',
    title: 'no deny match, an allow match on path and two headers',
    allow: [
      rule('allow_echo', {
        paths: ['*/Unary'],
        headers: headers({ 'key-foo': ['foo1', 'foo2'], 'key-bar': ['bar1'] }),
      }),
    ],
    deny: [rule('deny_clientstreamingecho', { paths: ['*/ClientStream'] })],
    transport: 'cppSpiffe',
    headers: fooBar,
    expect: { unary: 'OK', clientStream: 'DENIED' },
  },
  {
    id: 'C2',
    title: 'no match in allow or deny',
    allow: [rule('allow_foo', { paths: ['*/foo'] })],
    deny: [rule('deny_bar', undefined, ['bar'])],
    transport: 'cppSpiffe',
    expect: all('DENIED'),
  },
  {
    id: 'C3',
    title: 'a deny match wins over the empty allow rule',
    allow: [rule('allow_all')],
    deny: [rule('deny_echo', { paths: ['*/Unary'] })],
    transport: 'cppSpiffe',
    expect: { unary: 'DENIED', clientStream: 'OK' },
  },
  {
    id: 'C4',
    title: 'a deny match and no allow match',
    allow: [rule('allow_clientstreamingecho', { paths: ['*/ClientStream'] })],
    deny: [rule('deny_echo', { paths: ['*/Unary'] })],
    transport: 'cppSpiffe',
    expect: { unary: 'DENIED', clientStream: 'OK' },
  },
  {
    id: 'C5',
    title: 'no deny rules, an allow match on "*" and two headers',
    allow: [
      rule('allow_echo', { paths: ['*'], headers: headers({ 'key-foo': ['foo1', 'foo2'], 'key-bar': ['bar1'] }) }),
    ],
    transport: 'cppSpiffe',
    headers: fooBar,
    expect: all('OK'),
  },
  {
    id: 'C6',
    title: 'no deny rules, the allow rule wants a header the call lacks',
    allow: [rule('allow_echo', { paths: ['*/Unary'], headers: headers({ 'key-foo': ['foo1'] }) })],
    transport: 'cppSpiffe',
    headers: [['key-bar', 'bar1']],
    expect: { unary: 'DENIED' },
  },
  {
    id: 'C7',
    title: 'principals ["*"] on an unauthenticated (plaintext) connection',
    allow: [rule('allow_mtls', undefined, ['*'])],
    transport: 'plaintext',
    expect: all('DENIED'),
  },
  {
    id: 'C8',
    title: 'principals ["*"] on mutual TLS',
    allow: [rule('allow_mtls', undefined, ['*'])],
    transport: 'cppSpiffe',
    expect: all('OK'),
  },
];

const legit = [identities.legitSpiffe, identities.legitDns, identities.legitSubject];
const precedence = (id: string, title: string, transport: Transport, outcome: Outcome): Case => ({
  id,
  title,
  allow: [rule('allow_legit', undefined, legit)],
  transport,
  expect: all(outcome),
});
const presence = (principal: string, transport: Transport, outcome: Outcome): Case => ({
  id: `P-${principal === '' ? 'empty' : 'star'}-${transport}`,
  title: `principals [${JSON.stringify(principal)}] on ${transport === 'plaintext' ? 'plaintext' : transport === 'tls' ? 'TLS without a client certificate' : 'mutual TLS'}`,
  allow: [rule('allow_principal', undefined, [principal])],
  transport,
  expect: all(outcome),
});
const twice: Case['headers'] = [
  ['key-abc', 'a'],
  ['key-abc', 'b'],
];
const ourCases: readonly Case[] = [
  precedence('A41-1', 'a URI SAN that matches', 'uriLegit', 'OK'),
  precedence(
    'A41-2',
    'URI SAN spiffe://x/other and DNS SAN svc.legit: DENIED by a rule for svc.legit (A41, grpc-go ≥ 1.82); C-core would allow it',
    'uriOtherDnsLegit',
    'DENIED',
  ),
  precedence(
    'A41-3',
    'URI SAN spiffe://x/other and subject CN=svc.legit: DENIED (A41); C-core would allow it',
    'uriOtherSubjectLegit',
    'DENIED',
  ),
  precedence('A41-4', 'no URI SAN, a DNS SAN that matches', 'dnsLegit', 'OK'),
  precedence(
    'A41-5',
    'DNS SAN svc.other and subject CN=svc.legit: DENIED (A41); C-core would allow it',
    'dnsOtherSubjectLegit',
    'DENIED',
  ),
  precedence('A41-6', 'no SANs, a subject that matches', 'subjectLegit', 'OK'),
  {
    id: 'URI-2',
    title: 'a certificate with two URI SANs matches a rule for the second',
    allow: [rule('allow_second_uri', undefined, [identities.secondUri])],
    transport: 'twoUris',
    expect: all('OK'),
  },
  {
    id: 'H-joined',
    title: 'a header sent twice reaches the policy joined with ", ": values ["a, b"] match',
    allow: [rule('allow_joined', { headers: headers({ 'key-abc': ['a, b'] }) })],
    transport: 'plaintext',
    headers: twice,
    expect: all('OK'),
  },
  {
    id: 'H-comma',
    title: 'a header sent twice: values ["a,b"] (how grpc-go and C-core join) do not match on grpc-js',
    allow: [rule('allow_comma', { headers: headers({ 'key-abc': ['a,b'] }) })],
    transport: 'plaintext',
    headers: twice,
    expect: all('DENIED'),
  },
  {
    id: 'H-prefix',
    title: 'a header sent twice: a prefix on the first value matches everywhere',
    allow: [rule('allow_prefix', { headers: headers({ 'key-abc': ['a*'] }) })],
    transport: 'plaintext',
    headers: twice,
    expect: all('OK'),
  },
  {
    id: 'H-bin',
    title: 'a -bin header: presence ("*") matches, the one match portable to grpc-go and C-core',
    allow: [rule('allow_bin_present', { headers: headers({ 'key-bin': ['*'] }) })],
    transport: 'plaintext',
    headers: [['key-bin', Buffer.from([0xde, 0xad, 0xbe, 0xef])]],
    expect: all('OK'),
  },
  {
    id: 'H-bin-absent',
    title: 'a -bin header rule, the header not sent',
    allow: [rule('allow_bin_present', { headers: headers({ 'key-bin': ['*'] }) })],
    transport: 'plaintext',
    expect: all('DENIED'),
  },
  presence('', 'plaintext', 'DENIED'),
  presence('', 'tls', 'OK'),
  presence('', 'cppSpiffe', 'DENIED'),
  presence('*', 'plaintext', 'DENIED'),
  presence('*', 'tls', 'DENIED'),
  presence('*', 'cppSpiffe', 'OK'),
];

let shared: Promise<AuthzCertificates> | undefined;
const certificates = (): Promise<AuthzCertificates> => (shared ??= createAuthzCertificates());

function metadataOf(entries: Case['headers'] = []): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of entries) metadata.add(key, value);
  return metadata;
}

/** Runs `row` on a server of its own; checks every call's status, reason and whether its handler ran. */
async function run(t: TestContext, row: Case): Promise<void> {
  const policy = { name: 'authz', allow_rules: row.allow, ...(row.deny === undefined ? {} : { deny_rules: row.deny }) };
  const server = await startAuthzServer(t, await certificates(), createAuthorizationPolicyInterceptor({ policy }));
  for (const [kind, expected] of Object.entries(row.expect) as [CallType, Outcome][]) {
    const path = methodPaths[kind];
    const before = server.handled.get(path) ?? 0;
    const result = await callTypes[kind](server.client(row.transport), { metadata: metadataOf(row.headers) });
    assert.equal(outcomeOf(result.error), expected, `${row.id} ${kind}`);
    const ran = (server.handled.get(path) ?? 0) - before;
    assert.equal(ran, expected === 'OK' ? 1 : 0, `${row.id} ${kind}: the handler ran ${ran} times`);
  }
}

for (const row of [...goCases, ...cppCases, ...ourCases]) {
  const kinds = Object.entries(row.expect)
    .map(([kind, outcome]) => `${kind} ${outcome}`)
    .join(', ');
  test(`${row.id}: ${row.title} (${row.transport}: ${kinds})`, (t) => run(t, row));
}

// Audit logging (A59): grpc-go's audit_logging_test.go (GA1–GA4) and C++'s audit cases (C9–C20, and
// r-old's call matching both rules). Records reach the onAudit hook; the policy's own loggers are none.

/** What the tests compare of an audit record (its timestamp left out, as both upstream suites do). */
interface Audited {
  readonly rpc_method: string;
  readonly principal: string;
  readonly policy_name: string;
  readonly matched_rule: string;
  readonly authorized: boolean;
}

const pick = (record: AuditRecord): Audited => {
  const { rpc_method, principal, policy_name, matched_rule, authorized } = record;
  return { rpc_method, principal, policy_name, matched_rule, authorized };
};

type Condition = 'NONE' | 'ON_DENY' | 'ON_ALLOW' | 'ON_DENY_AND_ALLOW';
const auditOptions = (audit_condition: Condition) => ({ audit_condition, audit_loggers: [] });

async function auditedServer(t: TestContext, policy: object) {
  const records: Audited[] = [];
  const interceptor = createAuthorizationPolicyInterceptor({ policy, onAudit: (r) => records.push(pick(r)) });
  return { server: await startAuthzServer(t, await certificates(), interceptor), records };
}

const goAuditPolicy = (condition: Condition, allow: readonly Rule[], deny?: readonly Rule[]) => ({
  name: 'authz',
  allow_rules: allow,
  ...(deny === undefined ? {} : { deny_rules: deny }),
  audit_logging_options: auditOptions(condition),
});
const allowUnary = rule('allow_UnaryCall', { paths: [U] });
interface GoAuditCase {
  readonly id: string;
  readonly title: string;
  readonly policy: object;
  /** The two unary calls' outcome, and the client-streaming call's. */
  readonly expect: readonly [Outcome, Outcome];
  /** Records of allowed calls, and of denied ones. */
  readonly counts: readonly [number, number];
}
const goAuditCase = (
  id: string,
  title: string,
  policy: object,
  expect: GoAuditCase['expect'],
  counts: GoAuditCase['counts'],
): GoAuditCase => ({ id, title, policy, expect, counts });
const allowAllDenyStreaming = [[rule('allow_all', { paths: ['*'] })], [rule('deny_all', { paths: [CS] })]] as const;
const allowTypo = rule('allow_UnaryCall', { paths: [`${U}_Z`] });
const goAudit: readonly GoAuditCase[] = [
  goAuditCase('GA1', 'No audit', goAuditPolicy('NONE', [allowUnary]), ['OK', 'DENIED'], [0, 0]),
  goAuditCase(
    'GA2',
    'Allow All Deny Streaming - Audit All',
    goAuditPolicy('ON_DENY_AND_ALLOW', ...allowAllDenyStreaming),
    ['OK', 'DENIED'],
    [2, 1],
  ),
  goAuditCase('GA3', 'Allow Unary - Audit Allow', goAuditPolicy('ON_ALLOW', [allowUnary]), ['OK', 'DENIED'], [2, 0]),
  goAuditCase('GA4', 'Allow Typo - Audit Deny', goAuditPolicy('ON_DENY', [allowTypo]), ['DENIED', 'DENIED'], [0, 3]),
];

for (const row of goAudit) {
  test(`${row.id}: ${row.title}: 2 unary ${row.expect[0]}, 1 client-streaming ${row.expect[1]}; audited allow ${row.counts[0]}, deny ${row.counts[1]}`, async (t) => {
    const { server, records } = await auditedServer(t, row.policy);
    for (let i = 0; i < 2; i++)
      assert.equal(outcomeOf((await callTypes.unary(server.client('goSpiffe'))).error), row.expect[0]);
    assert.equal(outcomeOf((await callTypes.clientStream(server.client('goSpiffe'))).error), row.expect[1]);
    const counted = [records.filter((r) => r.authorized).length, records.filter((r) => !r.authorized).length];
    assert.deepEqual(counted, row.counts);
    if (row.id === 'GA2')
      // grpc-go names the rule `authz_deny_all` (policy_rule); we give the bare rule name, as C-core and A59's example.
      assert.deepEqual(records.at(-1), {
        rpc_method: CS,
        principal: identities.goSpiffe,
        policy_name: 'authz',
        matched_rule: 'deny_all',
        authorized: false,
      });
  });
}

/** C++'s audit policy PA: allow `key-foo: foo`, deny `key-bar: bar`. */
const cppAuditPolicy = (condition: Condition) => ({
  name: 'authz',
  allow_rules: [rule('allow_foo', { headers: headers({ 'key-foo': ['foo'] }) })],
  deny_rules: [rule('deny_bar', { headers: headers({ 'key-bar': ['bar'] }) })],
  audit_logging_options: auditOptions(condition),
});
const cppAuditCalls = {
  MatchInAllow: { headers: [['key-foo', 'foo']], outcome: 'OK', rule: 'allow_foo' },
  NoMatch: { headers: [['key-foo', 'bar']], outcome: 'DENIED', rule: '' },
  MatchInDeny: { headers: [['key-bar', 'bar']], outcome: 'DENIED', rule: 'deny_bar' },
  MatchInBoth: {
    headers: [
      ['key-foo', 'foo'],
      ['key-bar', 'bar'],
    ],
    outcome: 'DENIED',
    rule: 'deny_bar',
  },
} as const;
const audits: Record<Condition, (outcome: Outcome) => boolean> = {
  NONE: () => false,
  ON_DENY: (outcome) => outcome === 'DENIED',
  ON_ALLOW: (outcome) => outcome === 'OK',
  ON_DENY_AND_ALLOW: () => true,
};

let cppAuditId = 9;
for (const condition of ['NONE', 'ON_DENY', 'ON_ALLOW', 'ON_DENY_AND_ALLOW'] as const) {
  for (const [name, call] of Object.entries(cppAuditCalls)) {
    // C9–C20 in C++'s order; the call matching both rules is r-old's, with no number of its own.
    const id = name === 'MatchInBoth' ? `C-${condition}-both` : `C${cppAuditId++}`;
    const logged = audits[condition](call.outcome);
    test(`${id}: ${name} with audit ${condition}: ${call.outcome}, ${logged ? `audited "${call.rule}"` : 'not audited'}`, async (t) => {
      const { server, records } = await auditedServer(t, cppAuditPolicy(condition));
      const result = await callTypes.unary(server.client('cppSpiffe'), { metadata: metadataOf(call.headers) });
      assert.equal(outcomeOf(result.error), call.outcome);
      const expected = {
        rpc_method: U,
        principal: identities.cppSpiffe,
        policy_name: 'authz',
        matched_rule: call.rule,
      };
      assert.deepEqual(records, logged ? [{ ...expected, authorized: call.outcome === 'OK' }] : []);
    });
  }
}

// The file watcher (C++'s FileWatcher cases), on a ManualClock: a rewrite is reloaded one refresh
// interval later, a bad one is reported and the last good policy stays, with its audit options.

const allowEcho = { name: 'authz', allow_rules: [rule('allow_echo', { paths: ['*/Unary'] })] };
const denyEcho = {
  name: 'authz',
  allow_rules: [rule('allow_foo', { paths: ['*/foo'] })],
  deny_rules: [rule('deny_echo', { paths: ['*/Unary'] })],
};

test('C27: FileWatcherValidPolicyRefresh: OK, the file rewritten to deny_echo, reloaded, DENIED', async (t) => {
  const watched = await watchPolicy(t, allowEcho);
  const server = await startAuthzServer(t, await certificates(), watched.interceptor);
  assert.equal(outcomeOf((await callTypes.unary(server.client('cppSpiffe'))).error), 'OK');
  assertReloaded(await watched.rewrite(denyEcho), true);
  assert.equal(outcomeOf((await callTypes.unary(server.client('cppSpiffe'))).error), 'DENIED');
});

test('C28: FileWatcherInvalidPolicyRefreshSkipsReload: the file rewritten to {}, reported, still OK', async (t) => {
  const watched = await watchPolicy(t, allowEcho);
  const server = await startAuthzServer(t, await certificates(), watched.interceptor);
  assert.equal(outcomeOf((await callTypes.unary(server.client('cppSpiffe'))).error), 'OK');
  assertReloaded(await watched.rewrite('{}'), false, /name/);
  assert.equal(outcomeOf((await callTypes.unary(server.client('cppSpiffe'))).error), 'OK');
});

test('C29: FileWatcherWithAuditLoggingRecoversFromFailure: the old audit options survive a bad reload; the next good one audits its own way', async (t) => {
  const onAllow = { ...allowEcho, audit_logging_options: auditOptions('ON_ALLOW') };
  const watched = await watchPolicy(t, onAllow);
  const server = await startAuthzServer(t, await certificates(), watched.interceptor);
  const audited = (): Audited[] => watched.audited.map(pick);
  const record = (matched_rule: string, authorized: boolean): Audited => ({
    rpc_method: U,
    principal: identities.cppSpiffe,
    policy_name: 'authz',
    matched_rule,
    authorized,
  });
  assert.equal(outcomeOf((await callTypes.unary(server.client('cppSpiffe'))).error), 'OK');
  assert.deepEqual(audited(), [record('allow_echo', true)]);
  assertReloaded(await watched.rewrite('{}'), false, /name/);
  assert.equal(outcomeOf((await callTypes.unary(server.client('cppSpiffe'))).error), 'OK');
  assert.deepEqual(audited(), [record('allow_echo', true), record('allow_echo', true)]);
  assertReloaded(await watched.rewrite({ ...denyEcho, audit_logging_options: auditOptions('ON_DENY') }), true);
  assert.equal(outcomeOf((await callTypes.unary(server.client('cppSpiffe'))).error), 'DENIED');
  assert.deepEqual(audited().at(-1), record('deny_echo', false));
  assert.equal(audited().length, 3);
});

/** Checks a reload report: loaded, or refused with an error whose message matches `message`. */
function assertReloaded(event: PolicyReloadEvent, loaded: boolean, message?: RegExp): void {
  assert.equal(event.ok, loaded, event.ok ? 'reloaded' : `not reloaded: ${event.error.message}`);
  if (message !== undefined && !event.ok) assert.match(event.error.message, message);
}

// The load-time rows of docs/authorization-policy.md's table of differences (research note §6c.3).
const loads = (policy: object): string => {
  try {
    createAuthorizationPolicyInterceptor({ policy });
    return 'loads';
  } catch (error) {
    assert.ok(error instanceof AuthConfigError, String(error));
    return 'refused';
  }
};
const base = { name: 'authz', allow_rules: [rule('allow_all')] };
const loadCases: readonly [string, object, 'loads' | 'refused'][] = [
  [
    'two allow rules of the same name (the others keep the later one)',
    { ...base, allow_rules: [rule('a'), rule('a')] },
    'refused',
  ],
  [
    'a "*" inside a pattern, *x* (grpc-go: a prefix, C-core: a suffix)',
    { ...base, allow_rules: [rule('a', { paths: ['*x*'] })] },
    'refused',
  ],
  ['"**"', { ...base, allow_rules: [rule('a', { paths: ['**'] })] }, 'refused'],
  ['an unknown field (Java ignores it)', { ...base, extra: true }, 'refused'],
  [
    'a known field in another case, "Name" (grpc-go accepts it)',
    { Name: 'authz', allow_rules: [rule('a')] },
    'refused',
  ],
  ['"deny_rules": [] (C-core refuses it)', { ...base, deny_rules: [] }, 'loads'],
  ['"name": "" (C-core accepts it)', { ...base, name: '' }, 'refused'],
  ['an unknown logger', { ...base, audit_logging_options: { audit_loggers: [{ name: 'test_logger' }] } }, 'refused'],
  [
    'an unknown logger marked is_optional',
    { ...base, audit_logging_options: { audit_loggers: [{ name: 'test_logger', is_optional: true }] } },
    'loads',
  ],
];
for (const [title, policy, expected] of loadCases)
  test(`load: ${title}: ${expected}`, () => assert.equal(loads(policy), expected));

test('load: a mixed-case header key is lower-cased, as grpc-go does (C-core and Java keep it, and it never matches)', async (t) => {
  const policy = { name: 'authz', allow_rules: [rule('allow_foo', { headers: headers({ 'Key-Foo': ['foo'] }) })] };
  const server = await startAuthzServer(t, await certificates(), createAuthorizationPolicyInterceptor({ policy }));
  const result = await callTypes.unary(server.client('plaintext'), { metadata: metadataOf([['key-foo', 'foo']]) });
  assert.equal(outcomeOf(result.error), 'OK');
});
