// The CLI bundled once per test file (esbuild, dependencies left external) and run with plain node: a
// tsx start costs half a second per process, and the CLI tests start dozens. docs/cli.md's
// packed-install check runs the built dist/cli/main.js the same way.
import { rmSync } from 'node:fs';
import { after, before, type TestContext } from 'node:test';
import { bundleForNode } from './node-bundle.js';
import { runChild, type ChildOptions, type ChildResult } from './child-process.js';

/** The bundled CLI of a test file. */
export interface BundledCli {
  /** The bundle, for `startChild(t, path, args, { tsx: false })`. */
  readonly path: string;
  /** Runs `grpc-oauth2 ...args` to its end (killed by its PID when the test ends, if still running). */
  readonly run: (t: TestContext, args: readonly string[], options?: ChildOptions) => Promise<ChildResult>;
}

/**
 * Bundles src/cli/main.ts before the file's tests (in `.tmp/<name>-test-<pid>/`) and removes the
 * bundle after them (see {@link bundledBeforeTests}).
 *
 * @example
 * ```ts
 * const cli = bundledCli('cli');
 * const result = await cli.run(t, ['inspect'], { input: jwt });
 * ```
 */
export function bundledCli(name: string): BundledCli {
  const cli = bundledBeforeTests(`${name}-test`, 'src/cli/main.ts');
  return { path: cli, run: (t, args, options = {}) => runChild(t, cli, args, { ...options, tsx: false }) };
}

/**
 * `entryPoint` bundled by esbuild (dependencies left external) before the file's tests, into
 * `.tmp/<name>-<pid>/`, removed after them: for a test that starts the same script in many processes
 * with plain node. Returns the bundle's path.
 */
export function bundledBeforeTests(name: string, entryPoint: string): string {
  const bundleDir = `.tmp/${name}-${process.pid}`;
  const outfile = `${bundleDir}/main.mjs`;
  before(() => bundleForNode(entryPoint, outfile));
  after(() => rmSync(bundleDir, { recursive: true, force: true }));
  return outfile;
}
