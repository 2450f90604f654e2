import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runScript as runExample } from '../helpers/run-script.js';

const noToken = (output: string): boolean => !/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(output);

describe('examples/connect', () => {
  it('authenticates unary and streaming calls over the gRPC and Connect protocols, one token per scope set, and refuses http:; the server verifies each token and refuses a call without one', async () => {
    const { code, stdout, stderr } = await runExample('examples/connect/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /grpc unary +shipped \(asked by shop-frontend with orders.read\)\n/);
    assert.match(
      stdout,
      /grpc stream +order-2 packed \(for shop-frontend with orders.watch\)\ngrpc stream +order-2 shipped/,
    );
    assert.match(stdout, /connect unary +shipped \(asked by shop-frontend with orders.read\)\n/);
    assert.match(stdout, /token requests +2 /);
    assert.match(stdout, /no token +refused: Unauthenticated missing_token\n/);
    assert.match(stdout, /http: +refused: Unauthenticated, nothing sent/);
    assert.ok(!stdout.includes('example-secret-never-printed') && noToken(stdout));
  });
});

describe('examples/nice-grpc', () => {
  it('sends a bearer token on nice-grpc unary and server-streaming calls through createChannelCredentials', async () => {
    const { code, stdout, stderr } = await runExample('examples/nice-grpc/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /unary +hello Ada \(authorization: Bearer eyJ\.\.\.\)\n/);
    assert.match(stdout, /stream +hello Grace .*\nstream +hello Linus \(authorization: Bearer eyJ/);
    assert.match(stdout, /token requests: 1\n/);
    assert.ok(!stdout.includes('example-secret-never-printed') && noToken(stdout));
  });
});

describe('docs/connect.md', () => {
  it('shows only code that the examples run: every line of its ts blocks is in examples/connect or examples/nice-grpc', () => {
    const doc = readFileSync(new URL('../../docs/connect.md', import.meta.url), 'utf8');
    const sources = ['../../examples/connect/main.ts', '../../examples/nice-grpc/main.ts']
      .map((path) => readFileSync(new URL(path, import.meta.url), 'utf8'))
      .join('\n');
    const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map(([, body]) => body ?? '');
    assert.ok(blocks.length >= 3);
    for (const line of blocks.flatMap((block) => block.split('\n')).filter((l) => l.trim() !== '')) {
      assert.ok(sources.includes(line), `not in the examples: ${line}`);
    }
  });
});
