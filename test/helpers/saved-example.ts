import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { codeBlocks } from '../packaging/commands.js';
import { runScript } from './run-script.js';

const read = (path: string): Promise<string> => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

/** An example test file that a doc tells a user to save, under a caption. */
export interface SavedExample {
  /** The suite's name. */
  readonly title: string;
  /** The example, from the repository root, e.g. `'examples/opaque-tokens/introspection.test.ts'`. */
  readonly example: string;
  /** The doc holding it, from the repository root. */
  readonly doc: string;
  /** The caption line right before the doc's code block, e.g. ``'Save this as `introspection.test.ts`:'``. */
  readonly caption: string;
  /** How many tests the example has, all of which must pass. */
  readonly tests: number;
}

/** A suite with both checks of a saved example: its tests pass, and it is the doc's code block to the letter. */
export function describeSavedExample({ title, example, doc, caption, tests }: SavedExample): void {
  describe(title, () => {
    it(`passes all ${tests} of its tests`, async (t) => {
      const { code, stdout, stderr } = await runScript(example, [], 60_000, t);
      assert.equal(code, 0, `${stdout}\n${stderr}`);
      assert.match(stdout, new RegExp(`^# pass ${tests}$`, 'm'));
      assert.match(stdout, /^# fail 0$/m);
    });

    it(`is, to the letter, the file ${doc} tells a user to save`, async () => {
      const saved = codeBlocks(await read(doc)).find((block) => block.caption === caption);
      assert.equal(saved?.code, await read(example));
    });
  });
}
