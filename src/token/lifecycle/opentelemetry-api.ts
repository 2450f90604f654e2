import { createRequire } from 'node:module';
// Type only: erased from the build, so nothing here needs the package at run time.
import type * as OpenTelemetryApi from '@opentelemetry/api';

/** The parts of `@opentelemetry/api` the telemetry uses. */
export type OpenTelemetry = typeof OpenTelemetryApi;

let api: OpenTelemetry | null | undefined;

/**
 * `@opentelemetry/api` when the application has it installed (it is an optional peer dependency),
 * else `undefined`; looked up once.
 *
 * Loaded with `createRequire` rather than `import()`: a manager is built synchronously and may send
 * its first token request at once, which an asynchronous import would miss (or need a top-level
 * await, which would stop CommonJS code from `require`-ing this package on Node 22+). The package
 * ships CommonJS, and its global registry (`Symbol.for('opentelemetry.js.api.1')`) is shared by
 * every copy, so the SDK an application registers through `import` is the one seen here.
 *
 * Tests see the package missing by making it unresolvable (test/fixtures/without-opentelemetry.ts).
 *
 * @example
 * ```ts
 * const otel = openTelemetryApi(); // undefined without the package: telemetry is off
 * ```
 */
export function openTelemetryApi(): OpenTelemetry | undefined {
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)('@opentelemetry/api') as OpenTelemetry;
    } catch {
      api = null;
    }
  }
  return api ?? undefined;
}
