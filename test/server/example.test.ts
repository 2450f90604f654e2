import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';

describe('examples/server-verification', () => {
  it('allows the read, refuses the place naming the scopes, refuses no token, serves health, and exits 0', async () => {
    const { code, stdout, stderr } = await runScript('examples/server-verification/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /read +order 42 for storefront\n/);
    assert.match(
      stdout,
      /place +PERMISSION_DENIED: missing scope: needs one of orders.admin, orders.write \(grpc-oauth2-reason: missing_scope\)\n/,
    );
    assert.match(stdout, /no token +UNAUTHENTICATED: .* \(grpc-oauth2-reason: missing_token\)\n/);
    assert.match(stdout, /health +SERVING\n/);
    assert.match(stdout, /audit +\/shop.v1.Orders\/PlaceOrder allowed=false reason=missing_scope subject=storefront\n/);
    assert.ok(!stdout.includes('storefront-secret'));
    assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.test(stdout), 'no token printed');
  });
});
