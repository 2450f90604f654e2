// The machine a run was made on, for the printed note and bench/results.json.
import { createRequire } from 'node:module';
import os from 'node:os';

/** CPUs, memory, platform, and the versions of Node and grpc-js. */
export function machine(): Record<string, string | number> {
  const require = createRequire(import.meta.url);
  const grpcVersion = (require('@grpc/grpc-js/package.json') as { version: string }).version;
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    grpcJs: grpcVersion,
  };
}
