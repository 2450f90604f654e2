import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';

const doc = (): Promise<string> => readFile(new URL('../../docs/authorization-policy.md', import.meta.url), 'utf8');
const blocks = (text: string, language: string): string[] =>
  [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');

describe('examples/authorization-policy', () => {
  it('a small shop: health public, admin for one SPIFFE ID, orders by header; token scopes first, then the policy; denials audited', async () => {
    const { code, stdout, stderr } = await runScript('examples/authorization-policy/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const lines = stdout.trim().split('\n');
    const audit = lines.filter((line) => line.startsWith('{"grpc_audit_log"'));
    assert.deepEqual(
      lines.filter((line) => !audit.includes(line)),
      [
        'health, no certificate, no token   OK SERVING',
        'orders, x-region eu-west           OK 2 orders',
        'orders, x-region us-east           PERMISSION_DENIED policy_denied',
        'orders, x-debug                    PERMISSION_DENIED policy_denied',
        'admin, from ops                    OK reset',
        'admin, from orders                 PERMISSION_DENIED missing_scope',
        'admin, from orders with ops token  PERMISSION_DENIED policy_denied',
        "hint: the server's authorization policy (gRFC A43) denied /shop.v1.Orders/List: a deny rule matched, or no allow rule did; its principals come from the client certificate (URI SAN, else DNS SAN, else subject), so check the certificate this channel presents and the policy's rules for the method",
      ],
    );
    // A59's stdout_logger: one JSON line per denial the policy made (the token refusal never reached it).
    const orders = 'spiffe://shop.example/ns/shop/sa/orders';
    const records = audit.map(
      (line) => (JSON.parse(line) as { grpc_audit_log: Record<string, unknown> }).grpc_audit_log,
    );
    for (const record of records) assert.match(String(record.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      records.map(({ timestamp: _timestamp, ...rest }) => rest),
      [
        {
          rpc_method: '/shop.v1.Orders/List',
          principal: orders,
          policy_name: 'shop',
          matched_rule: '',
          authorized: false,
        },
        {
          rpc_method: '/shop.v1.Orders/List',
          principal: orders,
          policy_name: 'shop',
          matched_rule: 'no_debug_from_workloads',
          authorized: false,
        },
        {
          rpc_method: '/shop.v1.Admin/Reset',
          principal: orders,
          policy_name: 'shop',
          matched_rule: '',
          authorized: false,
        },
      ],
    );
    assert.doesNotMatch(stdout, /secret|Bearer|eyJ/, 'no token or secret in the output');
  });

  it('every line of the ts code blocks of docs/authorization-policy.md is in examples/authorization-policy/main.ts', async () => {
    const example = (await readFile(new URL('../../examples/authorization-policy/main.ts', import.meta.url), 'utf8'))
      .split('\n')
      .map((line) => line.trim());
    const lines = blocks(await doc(), 'ts').flatMap((block) => block.split('\n'));
    assert.ok(lines.length > 0);
    for (const line of lines.map((l) => l.trim()).filter((l) => l !== '' && l !== '...'))
      assert.ok(example.includes(line), `not in the example: ${line}`);
  });

  it("the doc's policy is examples/authorization-policy/policy.json, the file the example loads", async () => {
    const policy: unknown = JSON.parse(
      await readFile(new URL('../../examples/authorization-policy/policy.json', import.meta.url), 'utf8'),
    );
    const [first] = blocks(await doc(), 'json');
    assert.deepEqual(JSON.parse(first ?? ''), policy);
  });
});
