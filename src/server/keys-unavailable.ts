// The one error of the key set: the call ends UNAVAILABLE (keys_unavailable).

/** Thrown when the signing keys cannot be found or fetched: the call ends `UNAVAILABLE`. */
export class KeysUnavailableError extends Error {
  override readonly name = 'KeysUnavailableError';
}
