import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';

describe('examples/workload-identity', () => {
  it('gets tokens from an assertion file (rotated), an assertion function, a token exchange and a token file, and prints no token', async () => {
    const { code, stdout, stderr } = await runScript('examples/workload-identity/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^assertion file +token for orders-svc with scope orders.read$/m);
    assert.match(stdout, /^rotated +picked up without a restart \(2 assertions accepted\)$/m);
    assert.match(stdout, /^assertion function +token for deployer$/m);
    assert.match(
      stdout,
      /^token exchange +token for system:serviceaccount:shop:orders, audience https:\/\/orders.example.test$/m,
    );
    assert.match(stdout, /^token file +AccessToken\(Bearer \[redacted\], expires /m);
    assert.match(stdout, /^no secrets on the server's log: none$/m);
    assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+/.test(stdout), 'no token printed');
  });
});
