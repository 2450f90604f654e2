// Packs the package the way `npm publish` would (its `files`, its prepack build), from a copy of the
// tree: the build never writes into this checkout's dist/, which other test files, tools and a second
// test run beside this one may be reading, and a stale file left in dist/ cannot slip into the tarball.
import { cp, mkdir, symlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../helpers/run-script.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Top-level entries of the checkout that are not sources: installed, built or generated. */
const notCopied = new Set(['.git', 'node_modules', 'dist', 'docs-api', 'coverage', '.tmp']);

/** The packed tarball and the paths it holds. */
export interface PackedTarball {
  readonly tarball: string;
  readonly files: readonly string[];
}

/**
 * Copies the tree (without .git, node_modules and build output) to `<into>/source`, links the
 * checkout's node_modules there for the build, and runs `npm pack` in it. `cleanup` is the suite's
 * `after`; the caller removes `into`.
 */
export async function packTarball(cleanup: (fn: () => void) => void, into: string): Promise<PackedTarball> {
  const source = join(into, 'source');
  await mkdir(source);
  await cp(root, source, {
    recursive: true,
    filter: (path) => !notCopied.has(relative(root, path).split(sep)[0] ?? ''),
  });
  await symlink(join(root, 'node_modules'), join(source, 'node_modules'), 'dir');
  const packed = await runCommand(cleanup, 'npm', ['pack', '--json', '--pack-destination', into], source, 120_000);
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (!info) throw new Error(`npm pack printed no package:\n${packed.stdout}`);
  return { tarball: join(into, info.filename), files: info.files.map((f) => f.path) };
}
