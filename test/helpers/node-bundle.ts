// One script bundled by esbuild for plain node, its dependencies left external (resolved from this
// checkout's node_modules): what tests and benchmarks start in many processes, where a tsx start per
// process would cost more than the work.
import { build } from 'esbuild';

/** Bundles `entryPoint` (ESM, platform node) into `outfile`. */
export async function bundleForNode(entryPoint: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entryPoint],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
}
