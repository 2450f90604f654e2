// The test-runner recipes of docs/testing.md ("## Test runners"), as a test replays them: the files
// each tells a user to save, the packages it installs, the command that runs its test.
import { codeBlocks } from './commands.js';

/** A file a recipe tells the user to save ("Save this as `name`"). */
export interface RecipeFile {
  readonly name: string;
  readonly code: string;
}

/** One runner's recipe (a `###` section). */
export interface RunnerRecipe {
  /** The section's heading, e.g. `vitest`. */
  readonly runner: string;
  /** The packages its `npm install` block names, as written (`vitest@4`). */
  readonly packages: readonly string[];
  /** The files it saves, after the ones every recipe shares. */
  readonly files: readonly RecipeFile[];
  /** Its last `sh` block: the command that runs the test. */
  readonly command: string;
}

function savedFiles(markdown: string): RecipeFile[] {
  return codeBlocks(markdown).flatMap(({ caption, code }) => {
    const name = /\bSave this as `([^`]+)`/.exec(caption)?.[1];
    return name === undefined ? [] : [{ name, code }];
  });
}

/** The recipes under "## Test runners", each with the files saved before its own section. */
export function runnerRecipes(doc: string): RunnerRecipe[] {
  const start = doc.indexOf('\n## Test runners\n');
  if (start < 0) throw new Error('docs/testing.md has no "## Test runners" section');
  const end = doc.indexOf('\n## ', start + 1);
  const [intro = '', ...sections] = doc.slice(start, end < 0 ? undefined : end).split('\n### ');
  const shared = savedFiles(intro);
  return sections.map((section) => {
    const blocks = codeBlocks(section);
    const install = blocks.find((b) => b.lang === 'sh' && /^npm install /.test(b.code));
    const command = blocks.filter((b) => b.lang === 'sh').at(-1);
    if (!install || !command || command === install)
      throw new Error(`recipe without install or run block:\n${section}`);
    return {
      runner: section.slice(0, section.indexOf('\n')).trim(),
      packages: install.code
        .trim()
        .split(/\s+/)
        .slice(2)
        .filter((word) => !word.startsWith('-')),
      files: [...shared, ...savedFiles(section)],
      command: command.code,
    };
  });
}
