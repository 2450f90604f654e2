import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { optionTables, withTables } from './option-tables.js';

it('docs/configuration.md lists every option of every entry point as its TSDoc states it', async () => {
  const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(doc, withTables(doc, optionTables()), 'out of date: run `npx tsx test/packaging/option-tables.ts`');
});

it('the try/finally code of docs/configuration.md is, line for line, in examples/greeter/main.js (which a test runs)', async () => {
  const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const example = (await readFile(new URL('../../examples/greeter/main.js', import.meta.url), 'utf8'))
    .split('\n')
    .map((line) => line.trim());
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  assert.ok(blocks.length > 0);
  for (const line of blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.trim())
    .filter(Boolean)) {
    assert.ok(example.includes(line), `examples/greeter/main.js has the line ${line}`);
  }
});
