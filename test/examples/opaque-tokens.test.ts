import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';
import { codeBlocks } from '../packaging/commands.js';

const read = (path: string): Promise<string> => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');
const example = 'examples/opaque-tokens/introspection.test.ts';

describe('examples/opaque-tokens (docs/testing.md, "Opaque tokens and introspection")', () => {
  it('passes both of its tests against the mock', async (t) => {
    const { code, stdout, stderr } = await runScript(example, [], 60_000, t);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.match(stdout, /^# pass 2$/m);
    assert.match(stdout, /^# fail 0$/m);
  });

  it('is, to the letter, the file docs/testing.md tells a user to save', async () => {
    const blocks = codeBlocks(await read('docs/testing.md'));
    const saved = blocks.find((b) => b.caption === 'Save this as `introspection.test.ts`:');
    assert.equal(saved?.code, await read(example));
  });
});
