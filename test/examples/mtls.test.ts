import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';

describe('examples/mtls', () => {
  it('one certificate for token endpoint and channel: bound tokens, a renewal recovered by one replay, a stolen token refused', async () => {
    const { code, stdout, stderr } = await runScript('examples/mtls/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const caller = 'spiffe://example.org/ns/shop/sa/orders';
    assert.deepEqual(stdout.trim().split('\n'), [
      `first call      caller ${caller}, token bound to its certificate: true`,
      `server refused  certificate_mismatch (caller ${caller})`,
      `after renewal   caller ${caller}, token bound to its certificate: true`,
      'server refused  certificate_mismatch (caller spiffe://example.org/ns/shop/sa/thief)',
      'stolen token    UNAUTHENTICATED from another certificate',
    ]);
    assert.doesNotMatch(`${stdout}\n${stderr}`, /PRIVATE KEY/);
    assert.doesNotMatch(stderr, /GRPC_OAUTH2_CERTIFICATE_NOT_RELOADED/, 'a clean renewal warns of nothing');
  });

  it('every line of the ts code blocks of docs/mtls.md is in examples/mtls/main.ts', async () => {
    const doc = await readFile(new URL('../../docs/mtls.md', import.meta.url), 'utf8');
    const example = (await readFile(new URL('../../examples/mtls/main.ts', import.meta.url), 'utf8'))
      .split('\n')
      .map((line) => line.trim());
    const lines = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? '').split('\n'));
    assert.ok(lines.length > 0);
    for (const line of lines.map((l) => l.trim()).filter((l) => l !== '' && l !== '...'))
      assert.ok(example.includes(line), `not in the example: ${line}`);
  });
});
