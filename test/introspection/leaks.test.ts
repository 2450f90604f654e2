import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runChild } from '../helpers/child-process.js';

interface ScanOutput {
  readonly captured: { readonly where: string; readonly text: string }[];
  readonly forbidden: string[];
}

describe('introspection leak scan', () => {
  it('keeps tokens, the client secret in every encoding, assertions and the private key out of every denial, error and NODE_DEBUG line, against an endpoint that echoes them', async (t) => {
    const { code, stdout, stderr } = await runChild(t, 'test/introspection/scripts/leak-scenes.ts', [], {
      env: { NODE_DEBUG: 'grpc-oauth2' },
    });
    assert.equal(code, 0, stderr);
    const { captured, forbidden } = JSON.parse(stdout) as ScanOutput;
    const debugLines = stderr.split('\n').filter((line) => line.startsWith('GRPC-OAUTH2'));

    assert.ok(captured.length > 60, `the scan saw ${captured.length} outputs`);
    assert.ok(forbidden.length > 60, `${forbidden.length} values scanned for`);
    assert.ok(debugLines.length >= 15, `${debugLines.length} debug lines`);
    for (const reason of ['introspection_unavailable', 'wrong_issuer', 'wrong_audience', 'invalid_claims'])
      assert.ok(
        debugLines.some((line) => line.includes(reason)),
        `a debug line says ${reason}`,
      );
    assert.ok(
      debugLines.some((line) => line.includes("this server's client credentials were refused")),
      'the debug lines say why',
    );
    for (const { where, text } of [...captured, { where: 'stderr', text: stderr }]) {
      for (const value of forbidden)
        assert.ok(!text.includes(value), `${where} contains a secret (${value.slice(0, 6)}…):\n${text.slice(0, 400)}`);
    }
  });
});
