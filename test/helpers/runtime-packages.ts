import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Every package a module of src/ (`entry`, relative to src/) loads at run time, following its relative
 * imports: `import type` and `export type` are left out (verbatimModuleSyntax erases exactly those),
 * inline `type` names are not (the import itself stays); side-effect imports count.
 *
 * @example
 * ```ts
 * assert.ok(!runtimePackages('connect/index.ts').has('@grpc/grpc-js'));
 * ```
 */
export function runtimePackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, from, bare] of text.matchAll(
      /^(?:(?:import|export)\s+(?!type\s)[^;]*?from\s+'([^']+)'|import\s+'([^']+)')/gms,
    )) {
      const specifier = from ?? bare;
      if (specifier === undefined) continue;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else packages.add(specifier);
    }
  };
  visit(resolve(src, entry));
  return packages;
}
