import { describeThrown } from './describe.js';

const redacted = '[redacted]';

/** Shorter values are not scrubbed: they would match innocent text, and no real secret is that short. */
const minSecretLength = 4;

/**
 * Removes every known secret from text that came from outside (an error description a token server
 * sent, a library's message): a misbehaving server may echo what it was sent. `secrets` should hold
 * every encoding of each secret ({@link secretForms}); this only matches them literally.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= minSecretLength) out = out.split(secret).join(redacted);
  }
  return out;
}

/** Whether `text` holds any of `secrets` (in the encodings given). */
export function containsSecret(text: string, secrets: Iterable<string>): boolean {
  return redactSecrets(text, secrets) !== text;
}

/**
 * A copy of `error` fit to pass on (in an event): of the same class, so that `instanceof` and its
 * `code` still work, with every known secret scrubbed from its message, stack and string fields. Only
 * plain fields (strings, numbers, booleans) are kept: an object field or `cause` may hold anything (a
 * library's error may carry a command's arguments). A thrown value that is not an Error becomes an
 * Error naming its type. Hand-written: no library copies an error with its prototype.
 */
export function redactError(error: unknown, secrets: Iterable<string>, maxMessageLength = 200): Error {
  if (!(error instanceof Error)) return new Error(`a ${describeThrown(error)} was thrown`);
  const list = [...secrets];
  const copy = Object.create(Object.getPrototypeOf(error) as object | null) as Error;
  const field = (name: string, value: unknown, enumerable: boolean): void => {
    Object.defineProperty(copy, name, { value, enumerable, writable: true, configurable: true });
  };
  for (const [name, value] of Object.entries(error)) {
    if (typeof value === 'string') field(name, redactSecrets(value, list), true);
    else if (typeof value === 'number' || typeof value === 'boolean') field(name, value, true);
  }
  field('message', redactSecrets(error.message, list).slice(0, maxMessageLength), false);
  if (error.stack !== undefined) field('stack', redactSecrets(error.stack, list), false);
  return copy;
}

/**
 * Every form in which `secret` may travel to the token server, and so come back in an echo: as is;
 * percent-encoded by `encodeURIComponent`; form-encoded as `URLSearchParams` writes a
 * `client_secret_post` body; form-encoded as openid-client (oauth4webapi's `formUrlEncode`) writes
 * the user name and password of a `client_secret_basic` header; and the Basic credential itself,
 * `base64(id:secret)` with both parts encoded each of those ways. Percent escapes come in upper and
 * lower case, since a server may re-encode what it echoes.
 *
 * @param clientId - the client id the Basic credential pairs the secret with, if any.
 */
export function secretForms(secret: string, clientId?: string): string[] {
  const encoders: ((value: string) => string)[] = [(value) => value, encodeURIComponent, formEncode, basicAuthEncode];
  const forms = new Set<string>();
  for (const encode of encoders) {
    const encoded = encode(secret);
    forms.add(encoded).add(encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
    if (clientId !== undefined) forms.add(Buffer.from(`${encode(clientId)}:${encoded}`).toString('base64'));
  }
  return [...forms];
}

/** `application/x-www-form-urlencoded`, as `URLSearchParams` serializes a value. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * As oauth4webapi's `formUrlEncode` encodes a Basic user name and password (RFC 6749 §2.3.1):
 * `encodeURIComponent`, then `-_.!~*'()` as `%XX` too, and `%20` as `+`.
 */
function basicAuthEncode(value: string): string {
  return encodeURIComponent(value).replace(/[-_.!~*'()]|%20/g, (match) =>
    match === '%20' ? '+' : `%${match.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The last few values of something secret that changes with every request (client assertions,
 * JWT-bearer assertions), kept so that an echo of a recent one can still be scrubbed.
 */
export class RecentSecrets {
  readonly #capacity: number;
  readonly #values: string[][] = [];

  /** @param capacity - how many recent values to keep. */
  constructor(capacity = 4) {
    this.#capacity = capacity;
  }

  /** Remembers `value` in all its encodings, forgetting the oldest beyond the capacity. */
  remember(value: string | null | undefined): void {
    if (typeof value !== 'string' || value.length < minSecretLength) return;
    this.#values.push(secretForms(value));
    if (this.#values.length > this.#capacity) this.#values.shift();
  }

  /** Every encoding of every value remembered. */
  forms(): string[] {
    return this.#values.flat();
  }
}
