// The end-to-end cases of grpc-go's authz/grpc_authz_end2end_test.go (G1–G10) and C++'s
// test/cpp/end2end/grpc_authz_end2end_test.cc (C1–C8, and the decisions behind the audit cases
// C9–C20 and grpc-go's GA2), as our own table of policy, call and expected verdict, decided by the
// engine alone: the same table runs on a real grpc-js server in test/interop. The upstream method
// paths are kept; the verdict also names the rule that decided (the audit record's `matched_rule`,
// the bare rule name as C-core and A59's example give it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthorizationPolicy, type AuthzVerdict } from '../../src/server/authz/authorization-policy.js';
import { call, certificate, type Connection } from './authz-request.js';

type Rule = Record<string, unknown>;

interface Case {
  readonly id: string;
  readonly allow: readonly Rule[];
  readonly deny?: readonly Rule[];
  readonly connection: Connection;
  readonly headers?: Readonly<Record<string, string>>;
  /** Each method called, with the verdict expected for it. */
  readonly calls: Readonly<Record<string, AuthzVerdict>>;
}

const T = '/grpc.testing.TestService';
const E = '/grpc.testing.EchoTestService';
const rule = (name: string, request?: Rule, principals?: string[]): Rule => ({
  name,
  ...(request && { request }),
  ...(principals && { source: { principals } }),
});
const headers = (entries: Record<string, string[]>) =>
  Object.entries(entries).map(([key, values]) => ({ key, values }));
const allowed = (matchedRule: string): AuthzVerdict => ({ allowed: true, matchedRule });
const denied = (matchedRule = ''): AuthzVerdict => ({ allowed: false, matchedRule });
/** grpc-go's static cases make a unary and a client-streaming call and expect the same for both. */
const goCalls = (verdict: AuthzVerdict) => ({ [`${T}/UnaryCall`]: verdict, [`${T}/StreamingInputCall`]: verdict });

const goClient1 = certificate({ subject: 'CN=test-client1,O=gRPC,L=SVL,ST=CA,C=US' }); // no SANs
const cppClient = certificate({ uri: ['spiffe://foo.com/bar/baz'], subject: 'CN=testclient3' });
const echoHeaders = { 'key-foo': ['foo1', 'foo2'], 'key-bar': ['bar1'] };
const cppHeaders = { 'key-foo': 'foo2', 'key-bar': 'bar1', 'key-baz': 'baz1' };
const auditPolicy = {
  allow: [rule('allow_foo', { headers: headers({ 'key-foo': ['foo'] }) })],
  deny: [rule('deny_bar', { headers: headers({ 'key-bar': ['bar'] }) })],
  connection: cppClient,
};

const cases: readonly Case[] = [
  {
    id: 'G1',
    allow: [rule('allow_StreamingOutputCall', { paths: [`${T}/StreamingOutputCall`] })],
    deny: [
      rule('deny_TestServiceCalls', { paths: [`${T}/*`], headers: headers({ 'key-abc': ['val-abc', 'val-def'] }) }),
    ],
    connection: 'plaintext',
    headers: { 'key-abc': 'val-abc' },
    calls: goCalls(denied('deny_TestServiceCalls')),
  },
  {
    id: 'G2',
    allow: [rule('allow_all', { paths: ['*'] })],
    deny: [rule('deny_all', { paths: ['*'] })],
    connection: 'plaintext',
    calls: goCalls(denied('deny_all')),
  },
  {
    id: 'G3',
    allow: [rule('allow_all')],
    deny: [
      rule('deny_TestServiceCalls', {
        paths: [`${T}/UnaryCall`, `${T}/StreamingInputCall`],
        headers: headers({ 'key-abc': ['val-abc', 'val-def'] }),
      }),
    ],
    connection: 'plaintext',
    headers: { 'key-xyz': 'val-xyz' },
    calls: goCalls(allowed('allow_all')),
  },
  {
    id: 'G4',
    allow: [rule('allow_some_user', undefined, ['some_user'])],
    deny: [rule('deny_StreamingOutputCall', { paths: [`${T}/StreamingOutputCall`] })],
    connection: 'plaintext',
    calls: goCalls(denied()),
  },
  {
    id: 'G5',
    allow: [
      rule('allow_UnaryCall', { paths: [`${T}/UnaryCall`] }),
      rule('allow_StreamingInputCall', { paths: [`${T}/StreamingInputCall`] }),
    ],
    connection: 'plaintext',
    calls: {
      [`${T}/UnaryCall`]: allowed('allow_UnaryCall'),
      [`${T}/StreamingInputCall`]: allowed('allow_StreamingInputCall'),
      [`${T}/FullDuplexCall`]: denied(),
    },
  },
  {
    id: 'G6',
    allow: [rule('allow_StreamingOutputCall', { paths: [`${T}/StreamingOutputCall`] })],
    connection: 'plaintext',
    calls: { ...goCalls(denied()), [`${T}/StreamingOutputCall`]: allowed('allow_StreamingOutputCall') },
  },
  {
    id: 'G7',
    allow: [rule('allow_authenticated', undefined, ['*', ''])],
    connection: 'plaintext',
    calls: goCalls(denied()),
  },
  {
    id: 'G8',
    allow: [rule('allow_TestServiceCalls', { paths: [`${T}/*`], headers: headers({ 'key-abc': ['*'] }) })],
    connection: 'plaintext',
    headers: { 'key-abc': '' },
    calls: goCalls(denied()),
  },
  {
    id: 'G9',
    allow: [rule('allow_authenticated', undefined, ['*', ''])],
    connection: 'tls',
    calls: { [`${T}/UnaryCall`]: allowed('allow_authenticated') },
  },
  {
    id: 'G10',
    allow: [rule('allow_authenticated', undefined, ['*', ''])],
    connection: goClient1,
    calls: { [`${T}/UnaryCall`]: allowed('allow_authenticated') },
  },
  {
    id: 'GA2',
    allow: [rule('allow_all', { paths: ['*'] })],
    deny: [rule('deny_all', { paths: [`${T}/StreamingInputCall`] })],
    connection: certificate({ uri: ['spiffe://foo.bar.com/client/workload/1'] }),
    calls: { [`${T}/UnaryCall`]: allowed('allow_all'), [`${T}/StreamingInputCall`]: denied('deny_all') },
  },
  {
    id: 'C1',
    allow: [rule('allow_echo', { paths: ['*/Echo'], headers: headers(echoHeaders) })],
    deny: [rule('deny_clientstreamingecho', { paths: ['*/ClientStreamingEcho'] })],
    connection: cppClient,
    headers: cppHeaders,
    calls: { [`${E}/Echo`]: allowed('allow_echo') },
  },
  {
    id: 'C2',
    allow: [rule('allow_foo', { paths: ['*/foo'] })],
    deny: [rule('deny_bar', undefined, ['bar'])],
    connection: cppClient,
    calls: { [`${E}/Echo`]: denied() },
  },
  {
    id: 'C3',
    allow: [rule('allow_all')],
    deny: [rule('deny_echo', { paths: ['*/Echo'] })],
    connection: cppClient,
    calls: { [`${E}/Echo`]: denied('deny_echo') },
  },
  {
    id: 'C4',
    allow: [rule('allow_clientstreamingecho', { paths: ['*/ClientStreamingEcho'] })],
    deny: [rule('deny_echo', { paths: ['*/Echo'] })],
    connection: cppClient,
    calls: { [`${E}/Echo`]: denied('deny_echo'), [`${E}/ClientStreamingEcho`]: allowed('allow_clientstreamingecho') },
  },
  {
    id: 'C5',
    allow: [rule('allow_echo', { paths: ['*'], headers: headers(echoHeaders) })],
    connection: cppClient,
    headers: cppHeaders,
    calls: { [`${E}/Echo`]: allowed('allow_echo') },
  },
  {
    id: 'C6',
    allow: [rule('allow_echo', { paths: ['*/Echo'], headers: headers({ 'key-foo': ['foo1'] }) })],
    connection: cppClient,
    headers: { 'key-bar': 'bar1' },
    calls: { [`${E}/Echo`]: denied() },
  },
  {
    id: 'C7',
    allow: [rule('allow_mtls', undefined, ['*'])],
    connection: 'plaintext',
    calls: { [`${E}/Echo`]: denied() },
  },
  {
    id: 'C8',
    allow: [rule('allow_mtls', undefined, ['*'])],
    connection: cppClient,
    calls: { [`${E}/Echo`]: allowed('allow_mtls') },
  },
  {
    id: 'C9 C12 C15 C18',
    ...auditPolicy,
    headers: { 'key-foo': 'foo' },
    calls: { [`${E}/Echo`]: allowed('allow_foo') },
  },
  { id: 'C10 C13 C16 C19', ...auditPolicy, headers: { 'key-foo': 'bar' }, calls: { [`${E}/Echo`]: denied() } },
  {
    id: 'C11 C14 C17 C20',
    ...auditPolicy,
    headers: { 'key-bar': 'bar' },
    calls: { [`${E}/Echo`]: denied('deny_bar') },
  },
  {
    id: 'C r-old, deny wins',
    ...auditPolicy,
    headers: { 'key-foo': 'foo', 'key-bar': 'bar' },
    calls: { [`${E}/Echo`]: denied('deny_bar') },
  },
];

describe('A43 engine: the grpc-go and C++ end-to-end cases', () => {
  for (const c of cases) {
    it(c.id, () => {
      const policy = AuthorizationPolicy.parse(
        JSON.stringify({ name: 'authz', allow_rules: c.allow, ...(c.deny && { deny_rules: c.deny }) }),
        c.id,
      );
      for (const [method, verdict] of Object.entries(c.calls))
        assert.deepEqual(policy.evaluate(call(method, c.headers, c.connection)), verdict, method);
    });
  }
});
