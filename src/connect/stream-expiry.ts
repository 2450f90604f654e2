// Ends a Connect streaming call when its token expires. A Connect interceptor cannot end the HTTP
// response itself: it wraps the call instead, so that at that instant the handler's result, its request
// messages and its response messages all fail with the expiry error, and the handler's signal aborts.
import type { ConnectError, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from '@connectrpc/connect';
import type { Clock } from '../common/clock.js';
import { atWallTime } from '../server/expiry-timer.js';

type Next = (request: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;

/** The expiry of one call: its error once it has happened, and a promise that rejects with it then. */
interface Expiry {
  error: ConnectError | undefined;
  readonly reached: Promise<never>;
}

/**
 * Runs the streaming call `request` through `next` until it ends by itself or `clock` reaches
 * `dueAtMs` (wall-clock milliseconds), whichever comes first. At `dueAtMs`, `expire()` is called once
 * and what it returns ends the call: Connect sends it to the client as the call's status. The handler
 * sees it too: its `context.signal` aborts with it as the reason, and its next read of a request
 * message throws it. A handler that neither reads nor looks at its signal runs on until it returns,
 * but nothing more it yields is sent.
 *
 * The timer is cleared when the call ends in any way (Connect aborts the request's signal then).
 */
export async function endingAtExpiry(
  next: Next,
  request: StreamRequest,
  clock: Clock,
  dueAtMs: number,
  expire: () => ConnectError,
): Promise<StreamResponse> {
  const expired = new AbortController();
  let reject: (error: ConnectError) => void = () => undefined;
  const expiry: Expiry = { error: undefined, reached: new Promise<never>((_, fail) => (reject = fail)) };
  // Only ever awaited through a race: without this, the rejection of a call nobody races any more is unhandled.
  expiry.reached.catch(() => undefined);
  const timer = atWallTime(clock, dueAtMs, () => {
    const error = expire();
    expiry.error = error;
    expired.abort(error);
    reject(error);
  });
  const stop = (): void => timer.clear();
  if (request.signal.aborted) stop();
  else request.signal.addEventListener('abort', stop, { once: true });

  const handled = next({
    ...request,
    signal: AbortSignal.any([request.signal, expired.signal]),
    message: untilExpired(request.message, expiry),
  });
  // A client-streaming handler's result comes only once it has read every request: race it too.
  const response = (await Promise.race([handled, expiry.reached])) as StreamResponse;
  return { ...response, message: untilExpired(response.message, expiry) };
}

/** `iterable`'s values, until it ends or the expiry is reached: then the expiry error is thrown. */
async function* untilExpired<T>(iterable: AsyncIterable<T>, expiry: Expiry): AsyncGenerator<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      // Checked before pulling: past the expiry, not one more message is read from the source.
      if (expiry.error !== undefined) throw expiry.error;
      const result = await Promise.race([iterator.next(), expiry.reached]);
      if (result.done === true) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    // Left early (the expiry, or the consumer stopped): the source may end too, once it can.
    if (!finished) iterator.return?.().catch(() => undefined);
  }
}
