// The heap in use after full garbage collections, without starting node with --expose-gc.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** Bytes of heap in use after four full collections, a turn of the event loop apart. */
export async function heapUsedAfterGc(): Promise<number> {
  if (collect === undefined) {
    // V8 exposes gc() to contexts created after the flag is set.
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 4; i++) {
    collect();
    await nextTurn();
  }
  return process.memoryUsage().heapUsed;
}
