import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Every package a module loads at run time, following its relative imports: `import type` and
 * `export type` are left out (verbatimModuleSyntax erases exactly those), inline `type` names are not
 * (the import itself stays); side-effect imports count.
 */
function runtimePackages(entry: string): Set<string> {
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

test('the main entry point never loads @connectrpc/connect', () => {
  const packages = runtimePackages('index.ts');
  assert.ok(packages.has('@grpc/grpc-js'), 'the walk sees the main entry point’s own packages');
  assert.ok(
    ![...packages].some((name) => name.startsWith('@connectrpc/') || name.startsWith('@bufbuild/')),
    [...packages].join(', '),
  );
});

test('the ./connect entry point loads @connectrpc/connect and never @grpc/grpc-js', () => {
  const packages = runtimePackages('connect/index.ts');
  assert.ok(packages.has('@connectrpc/connect'), [...packages].join(', '));
  assert.ok(!packages.has('@grpc/grpc-js'), [...packages].join(', '));
});

test('the Connect server modules load @connectrpc/connect and jose, never @grpc/grpc-js', () => {
  for (const module of [
    'connect/server-interceptor.ts',
    'connect/server-claims.ts',
    'connect/server-options.ts',
    'connect/denial-error.ts',
    'connect/stream-expiry.ts',
  ]) {
    const packages = runtimePackages(module);
    assert.ok(!packages.has('@grpc/grpc-js'), `${module}: ${[...packages].join(', ')}`);
  }
  const server = runtimePackages('connect/server-interceptor.ts');
  assert.ok(server.has('@connectrpc/connect') && server.has('jose'), [...server].join(', '));
});
