// Ends a Connect streaming call when its token expires. A Connect interceptor cannot end the HTTP
// response itself: it wraps the call instead, so that at that instant the handler's result, its request
// messages and its response messages all fail with the expiry error, and the handler's signal aborts.
import type { ConnectError, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from '@connectrpc/connect';
import type { Clock } from '../common/clock.js';
import { atWallTime } from '../server/expiry-timer.js';

type Next = (request: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;

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
  const expiry = new AbortController();
  const timer = atWallTime(clock, dueAtMs, () => expiry.abort(expire()));
  const stop = (): void => timer.clear();
  if (request.signal.aborted) stop();
  else request.signal.addEventListener('abort', stop, { once: true });

  const handled = next({
    ...request,
    signal: AbortSignal.any([request.signal, expiry.signal]),
    message: untilExpired(request.message, expiry.signal),
  });
  // A client-streaming handler's result comes only once it has read every request: it is raced too.
  const response = (await beforeExpiry(handled, expiry.signal)) as StreamResponse;
  return { ...response, message: untilExpired(response.message, expiry.signal) };
}

/**
 * `promise`'s outcome, or a rejection with the expiry error if `expired` aborts first. A listener per
 * wait, removed after it (not a race against one long-lived promise, which would keep a reaction for
 * every message of a long stream).
 */
function beforeExpiry<T>(promise: Promise<T>, expired: AbortSignal): Promise<T> {
  if (expired.aborted) return Promise.reject(expired.reason as ConnectError);
  return new Promise<T>((resolve, reject) => {
    const onExpired = (): void => reject(expired.reason as ConnectError);
    expired.addEventListener('abort', onExpired, { once: true });
    promise.finally(() => expired.removeEventListener('abort', onExpired)).then(resolve, reject);
  });
}

/** `iterable`'s values, until it ends or `expired` aborts: then the expiry error is thrown. */
async function* untilExpired<T>(iterable: AsyncIterable<T>, expired: AbortSignal): AsyncGenerator<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      // Checked before pulling: past the expiry, not one more message is read from the source.
      if (expired.aborted) throw expired.reason as ConnectError;
      const result = await beforeExpiry(iterator.next(), expired);
      if (result.done === true) {
        finished = true;
        return;
      }
      yield result.value;
    }
  } finally {
    // Left early (the expiry, or the consumer stopped): the source may end too, once it can.
    if (!finished) {
      try {
        Promise.resolve(iterator.return?.()).catch(() => undefined);
      } catch {
        // A source that cannot be stopped ends by itself; the call has ended either way.
      }
    }
  }
}
