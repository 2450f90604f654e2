import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript as runExample } from '../helpers/run-script.js';

describe('the demo (npm run demo)', () => {
  it('authenticates every call type, refreshes in the background, refuses an insecure channel and exits 0', async () => {
    const { code, stdout, stderr } = await runExample('examples/demo/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /token fetched +AccessToken\(Bearer \[redacted\]/);
    assert.match(stdout, /unary +note "hello" for orders-svc \[notes.read\]/);
    assert.match(stdout, /server stream +3 messages/);
    assert.match(stdout, /bidi stream +orders-svc \[notes.read\] said "ping"/);
    assert.match(stdout, /refreshed +in the background .*caller waited: false.*new token differs/);
    assert.match(stdout, /insecure +refused: InsecureChannelError/);
    assert.ok(!stdout.includes('demo-secret-never-printed'));
    assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(stdout), 'no token printed');
  });
});

describe('examples/service-account-scopes', () => {
  it('gets one token per method scope from a service-account key file and reuses it', async () => {
    const { code, stdout, stderr } = await runExample('examples/service-account-scopes/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(
      stdout,
      /read +order-1: \/shop.v1.Orders\/GetOrder by orders-client@shop.iam.example.test with scope orders.read\n/,
    );
    assert.match(stdout, /write +order-2: \/shop.v1.Orders\/PlaceOrder by .* with scope orders.write\n/);
    assert.match(stdout, /read +order-3: .* with scope orders.read\n/);
    assert.match(stdout, /token requests: 2 /);
  });
});
