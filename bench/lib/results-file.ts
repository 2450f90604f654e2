// bench/results.json, shared by `npm run bench` (its top-level keys) and `npm run soak` (its `soak`
// key): each writes its own part and keeps the other's.
import { readFile, writeFile } from 'node:fs/promises';

export const resultsFile = new URL('../results.json', import.meta.url);

/** The file's content, or an empty object when there is none yet (or it is not a JSON object). */
export async function readResults(): Promise<Record<string, unknown>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(resultsFile, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Writes `results` as the file's content. */
export async function writeResults(results: Record<string, unknown>): Promise<void> {
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
}
