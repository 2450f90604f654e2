// Making calls on a BenchClient: one unary call, and a closed loop of them at a fixed concurrency.
import { performance } from 'node:perf_hooks';
import type * as grpc from '@grpc/grpc-js';
import type { BenchClient } from '../clients.js';
import { echoService, requestBytes } from '../server/echo-service.js';

/** One unary call; resolves with its error (undefined on success), never rejects. */
export function unaryCall(bench: BenchClient): Promise<grpc.ServiceError | undefined> {
  const { path, requestSerialize, responseDeserialize } = echoService.Unary;
  return new Promise((resolve) => {
    bench.client.makeUnaryRequest(
      path,
      requestSerialize,
      responseDeserialize,
      requestBytes,
      bench.metadata(),
      {},
      (error) => resolve(error ?? undefined),
    );
  });
}

/** When a closed loop stops: after a number of calls, or once a time has passed. */
export type Stop = { readonly calls: number } | { readonly durationMs: number };

/** Each call of a loop: when it started (ms since the loop started) and how long it took, in ms. */
export interface CallRecord {
  readonly startMs: number;
  readonly latencyMs: number;
  readonly failed: boolean;
}

export interface LoopResult {
  /** `performance.now()` when the loop started; record times count from here. */
  readonly startedAt: number;
  readonly calls: number;
  readonly failures: number;
  readonly elapsedMs: number;
  readonly callsPerSecond: number;
  /** Every call, in completion order; only when asked for (`record: true`). */
  readonly records: readonly CallRecord[];
  /** The first error seen, to explain failures. */
  readonly firstError: grpc.ServiceError | undefined;
}

export interface LoopOptions {
  readonly concurrency: number;
  readonly stop: Stop;
  readonly record?: boolean;
}

/**
 * Unary calls from `concurrency` workers, each starting its next call when the last one ends, as a
 * service under steady load does. Throughput is the calls completed over the elapsed wall time.
 */
export async function closedLoop(bench: BenchClient, options: LoopOptions): Promise<LoopResult> {
  const records: CallRecord[] = [];
  let started = 0;
  let failures = 0;
  let firstError: grpc.ServiceError | undefined;
  const t0 = performance.now();
  const stop = options.stop;
  const more = 'calls' in stop ? () => started < stop.calls : () => performance.now() - t0 < stop.durationMs;

  async function worker(): Promise<void> {
    while (more()) {
      started++;
      const startMs = performance.now() - t0;
      const error = await unaryCall(bench);
      if (error !== undefined) {
        failures++;
        firstError ??= error;
      }
      if (options.record)
        records.push({ startMs, latencyMs: performance.now() - t0 - startMs, failed: error !== undefined });
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  return {
    startedAt: t0,
    calls: started,
    failures,
    elapsedMs,
    callsPerSecond: (started * 1000) / elapsedMs,
    records,
    firstError,
  };
}

/**
 * Sends `messages` messages on one bidi stream, keeping `window` of them unanswered at a time (the
 * server echoes each), and resolves with the messages per second from the first write to the last
 * echo. The stream's metadata, token included, is sent once, when it opens.
 */
export function bidiMessagesPerSecond(bench: BenchClient, messages: number, window: number): Promise<number> {
  const { path, requestSerialize, responseDeserialize } = echoService.Bidi;
  return new Promise((resolve, reject) => {
    const stream = bench.client.makeBidiStreamRequest(
      path,
      requestSerialize,
      responseDeserialize,
      bench.metadata(),
      {},
    );
    const t0 = performance.now();
    let written = 0;
    let echoed = 0;
    const write = (): void => {
      written++;
      stream.write(requestBytes);
    };
    stream.on('data', () => {
      echoed++;
      if (written < messages) write();
      else if (echoed === messages) stream.end();
    });
    stream.on('error', reject);
    stream.on('end', () => {
      if (echoed === messages) resolve((messages * 1000) / (performance.now() - t0));
      else reject(new Error(`bidi stream ended after ${echoed} of ${messages} echoes`));
    });
    while (written < Math.min(window, messages)) write();
  });
}
