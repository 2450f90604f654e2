import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChild } from '../helpers/child-process.js';

describe('examples/diagnostics (docs/troubleshooting.md)', () => {
  it('logs each call with the token redacted and explains the PERMISSION_DENIED with the missing scope', async (t) => {
    const { code, stdout, stderr } = await runChild(t, 'examples/diagnostics/main.ts');
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /^→ \/orders\.v1\.Orders\/GetOrder authorization=Bearer \[redacted: \d+ chars; expires in 3[56]\d\d s \(\S+Z\); scopes orders\.read\]\n← \/orders\.v1\.Orders\/GetOrder OK\n/,
    );
    assert.match(stdout, /\n← \/orders\.v1\.Orders\/PlaceOrder PERMISSION_DENIED \(7\): missing scope orders\.write\n/);
    assert.match(stdout, /\nhint: the token lacked scope orders\.write; it was requested with orders\.read\n$/);
    assert.ok(!stdout.includes('example-secret-never-printed'));
    assert.ok(!/eyJ[\w-]+\.eyJ/.test(stdout), 'no token printed');
  });
});
