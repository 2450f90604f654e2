import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runtimePackages } from '../helpers/runtime-packages.js';

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
