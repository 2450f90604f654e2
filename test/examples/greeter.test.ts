import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { runScript } from '../helpers/run-script.js';
import { codeBlocks } from '../packaging/commands.js';

const read = (path: string): Promise<string> => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('examples/greeter (docs/getting-started.md)', () => {
  it('makes one authenticated call to a service loaded from a .proto file and is refused without a token', async (t) => {
    const { code, stdout, stderr } = await runScript('examples/greeter/main.js', [], 30_000, t);
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.equal(stdout, 'Hello, world! (caller: greeter-client, scope: greet)\nwithout a token: UNAUTHENTICATED\n');
    assert.equal(stderr, '', 'no warnings');
  });

  it('is, file for file, the code that docs/getting-started.md tells a user to save', async () => {
    const blocks = codeBlocks(await read('docs/getting-started.md'));
    const saved = (name: string): string | undefined =>
      blocks.find((b) => b.caption === `Save this as \`${name}\`:`)?.code;
    assert.equal(saved('greeter.proto'), await read('examples/greeter/greeter.proto'));
    assert.equal(saved('main.js'), await read('examples/greeter/main.js'));
  });
});
