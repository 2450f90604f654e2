import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';

describe('examples/mtls', () => {
  it('calls with a client certificate and a token, and new connections use the renewed certificate', async () => {
    const { code, stdout, stderr } = await runScript('examples/mtls/main.ts');
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^first call +client spiffe:\/\/example.org\/orders\/v1, token attached: true$/m);
    assert.match(stdout, /^after renewal +client spiffe:\/\/example.org\/orders\/v2, token attached: true$/m);
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
