import { SingleFlight } from './single-flight.js';

/**
 * A value made on first use by one request that every concurrent caller shares ({@link SingleFlight}),
 * then kept: discovered server metadata, a client authentication built from a secret file, an imported
 * key. A failure is not kept, so the next caller tries again. After {@link CachedSingleFlight.forget}
 * (a credential file rotated), a request started before is neither joined nor kept: it may hold the
 * old credential.
 *
 * @internal
 * @example
 * ```ts
 * const metadata = new CachedSingleFlight<ServerMetadata>();
 * await metadata.get(() => discoverMetadata(issuer, clientId, http, signal)); // one discovery, then kept
 * ```
 */
export class CachedSingleFlight<T> {
  #kept: { readonly value: T } | undefined;
  #flight = new SingleFlight<T>();

  /** The kept value, or the request in flight, or a new one made with `start`. */
  async get(start: () => Promise<T>): Promise<T> {
    if (this.#kept !== undefined) return this.#kept.value;
    const flight = this.#flight;
    const value = await flight.run(start);
    if (flight === this.#flight) this.#kept = { value };
    return value;
  }

  /** Drops the kept value and leaves the request in flight, if any, to those who joined it. */
  forget(): void {
    this.#kept = undefined;
    this.#flight = new SingleFlight();
  }
}
