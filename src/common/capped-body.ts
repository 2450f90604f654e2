/**
 * Reads `body` whole, up to `maxBytes`: a declared `Content-Length` past the cap is refused before
 * anything is read, and reading stops (the stream is cancelled) as soon as the bytes pass it, so a
 * huge answer never sits in memory. Hand-written because Node's fetch reads a body of any size.
 *
 * @throws what `tooLarge()` makes, past the cap; the signal's reason once it aborts.
 */
export async function readCappedBody(
  body: ReadableStream<Uint8Array> | null,
  headers: Headers,
  maxBytes: number,
  tooLarge: () => Error,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array();
  if (Number(headers.get('content-length')) > maxBytes) {
    await body.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  }
  return Buffer.concat(chunks, size);
}
