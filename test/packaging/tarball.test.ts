// A fresh project installs the packed tarball and follows docs/getting-started.md word for word;
// others run docs/testing.md's vitest and Jest recipes as written.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { codeBlocks, runCommand } from './commands.js';
import { headingAnchors, linkTarget, relativeLinks } from './doc-links.js';
import { packTarball } from './packed-tarball.js';
import { runnerRecipes } from './runner-recipes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const recipes = runnerRecipes(readFileSync(join(root, 'docs/testing.md'), 'utf8'));
const npmQuiet = ['--prefer-offline', '--no-audit', '--no-fund'];

/**
 * One install of every recipe's packages (and the peer @grpc/grpc-js) in `dir`, shared by each
 * recipe's own directory through a node_modules link: one registry round, not one per runner.
 */
async function installRunners(dir: string): Promise<void> {
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), '{ "name": "runners", "private": true }\n');
  const packages = [...new Set(recipes.flatMap((recipe) => recipe.packages))];
  const installed = await runCommand(
    after,
    'npm',
    ['install', '@grpc/grpc-js', ...packages, ...npmQuiet],
    dir,
    180_000,
  );
  if (installed.code !== 0) throw new Error(`npm install ${packages.join(' ')} failed:\n${installed.stderr}`);
}

describe('the packed tarball in a fresh project', () => {
  let work = '';
  let tarball = '';
  let files: readonly string[] = [];
  let runners = '';
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'grpc-oauth2-fresh-'));
    runners = join(work, 'runners');
    // The test runners' packages need no tarball: they install while the package builds and packs.
    [{ tarball, files }] = await Promise.all([packTarball(after, work), installRunners(runners)]);
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('ships the licence, the build, its declarations and the sources its maps point to, and no tests', () => {
    for (const path of [
      'LICENSE',
      'README.md',
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'src/index.ts',
      'dist/testing/index.d.ts',
    ]) {
      assert.ok(files.includes(path), `${path} is in the tarball`);
    }
    assert.deepEqual(
      files.filter((f) => f.startsWith('test/') || f.startsWith('examples/') || f.startsWith('bench/')),
      [],
    );
  });

  it('has no doc that links to a file the package does not ship, or to a heading its page lacks', async () => {
    const broken: string[] = [];
    for (const page of files.filter((path) => path.endsWith('.md'))) {
      for (const link of relativeLinks(await readFile(join(root, page), 'utf8'))) {
        const { path, anchor } = linkTarget(page, link);
        if (!files.includes(path) && !files.some((file) => file.startsWith(`${path}/`)))
          broken.push(`${page}: ${link}`);
        else if (anchor !== undefined && !headingAnchors(await readFile(join(root, path), 'utf8')).has(anchor))
          broken.push(`${page}: ${link} (no such heading)`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('runs the getting-started guide as written: install, save greeter.proto and main.js, node main.js', async (t) => {
    const guide = await readFile(join(root, 'docs/getting-started.md'), 'utf8');
    const blocks = codeBlocks(guide);
    const install = blocks.find((b) => b.lang === 'sh' && b.code.includes('npm install'));
    assert.ok(install, 'the guide has an install block');
    // Word for word, except that the package comes from the tarball and npm stays offline-first.
    const script = install.code
      .replace(/npm install grpc-oauth2-credentials /, `npm install ${tarball} `)
      .replace(/(npm install .*)$/m, '$1 --prefer-offline --no-audit --no-fund');
    const installed = await runCommand((fn) => t.after(fn), 'bash', ['-euo', 'pipefail', '-c', script], work, 60_000);
    assert.equal(installed.code, 0, installed.stderr);
    const project = join(work, 'greeter');
    for (const block of blocks) {
      const name = /^Save this as `([^`]+)`:$/.exec(block.caption)?.[1];
      if (name) await writeFile(join(project, name), block.code);
    }
    const run = blocks.find((b) => b.lang === 'sh' && b.code.trim() === 'node main.js');
    const expected = blocks[blocks.indexOf(run!) + 1];
    assert.ok(run && expected?.lang === 'text', 'the guide shows the command and what it prints');
    const { code, stdout, stderr } = await runCommand(
      (fn) => t.after(fn),
      process.execPath,
      ['main.js'],
      project,
      30_000,
    );
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.equal(stdout, expected.code);
  });

  it('can be require()d from CommonJS on this Node version (20.19 or later)', async (t) => {
    const project = join(work, 'greeter');
    const source =
      "const { TokenManager } = require('grpc-oauth2-credentials'); const { MockTokenServer } = require('grpc-oauth2-credentials/testing'); console.log(typeof TokenManager, typeof MockTokenServer);";
    await writeFile(join(project, 'check.cjs'), source);
    const { code, stdout, stderr } = await runCommand((fn) => t.after(fn), process.execPath, ['check.cjs'], project);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'function function\n');
  });

  describe("docs/testing.md's test-runner recipes, each in a project of its own", () => {
    before(async () => {
      const installed = await runCommand(after, 'npm', ['install', tarball, ...npmQuiet], runners, 120_000);
      assert.equal(installed.code, 0, installed.stderr);
    });

    it('has a vitest and a Jest recipe, each saving the module under test and a test file', () => {
      assert.deepEqual(
        recipes.map((recipe) => recipe.runner),
        ['vitest', 'Jest'],
      );
      for (const recipe of recipes) {
        const names = recipe.files.map((file) => file.name);
        assert.ok(names.includes('orders-tokens.ts') && names.includes('orders.test.ts'), names.join(', '));
      }
    });

    for (const recipe of recipes) {
      it(`runs the ${recipe.runner} recipe as written: its files, then \`${recipe.command.trim()}\``, async (t) => {
        const project = join(runners, recipe.runner);
        await mkdir(project);
        await symlink(join(runners, 'node_modules'), join(project, 'node_modules'), 'dir');
        for (const file of recipe.files) await writeFile(join(project, file.name), file.code);
        const { code, stdout, stderr } = await runCommand(
          (fn) => t.after(fn),
          'bash',
          ['-euo', 'pipefail', '-c', recipe.command],
          project,
          90_000,
        );
        const output = stripVTControlCharacters(`${stdout}\n${stderr}`);
        assert.equal(code, 0, output);
        assert.match(output, /\bTests:? +1 passed\b/);
      });
    }
  });
});
