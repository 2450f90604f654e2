/**
 * One request shared by every caller that asks while it is pending: the package's one single-flight
 * idiom, used by the token cache, the endpoint gate, discovery and the server's key set. The pending
 * promise is forgotten once it settles, so the next caller starts afresh.
 *
 * @internal
 * @example
 * ```ts
 * const keys = new SingleFlight<JSONWebKeySet>();
 * const [a, b] = await Promise.all([keys.run(fetchKeys), keys.run(fetchKeys)]); // one fetch
 * ```
 */
export class SingleFlight<T> {
  #pending: Promise<T> | undefined;

  /** The request in flight, if any. */
  get pending(): Promise<T> | undefined {
    return this.#pending;
  }

  /** Joins the request in flight, or starts one with `start` (a synchronous throw becomes a rejection). */
  run(start: () => Promise<T>): Promise<T> {
    if (this.#pending !== undefined) return this.#pending;
    // An async wrapper turns a synchronous throw of `start` into a rejection shared like any other.
    const pending = (async () => start())().finally(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    this.#pending = pending;
    return pending;
  }
}
