// The public keys of DPoP proofs, imported once per key: importing a JWK (about 150 µs) and hashing
// its thumbprint (about 65 µs) cost more than the signature check itself (about 200 µs), and a client
// signs every proof with the same key. Hand-written: a bounded Map, keyed by the thumbprint the token's
// `cnf.jkt` names, holding the members that thumbprint is made of (RFC 7638 §3.2).
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { jwkThumbprintMembers } from '../common/jws-algorithms.js';

/** A JWK as it came in a proof's header. */
type Jwk = Record<string, unknown>;

/** Most keys held; beyond it the oldest is forgotten (and imported again when it comes back). */
export const maxDpopKeys = 10_000;

interface HeldKey {
  readonly jwk: Jwk;
  readonly key: KeyObject;
}

/** Public keys by their SHA-256 JWK thumbprint. */
export class DpopKeys {
  readonly #held = new Map<string, HeldKey>();

  /** @param capacity - most keys held. Default {@link maxDpopKeys}. */
  constructor(readonly capacity = maxDpopKeys) {}

  /** Keys held now. */
  get size(): number {
    return this.#held.size;
  }

  /**
   * The key `jwk` (a public JWK, checked by the caller) when its thumbprint is `jkt`; `'mismatch'`
   * when it is another key; `undefined` when it is not a key that can be imported.
   */
  async keyFor(jwk: Jwk, jkt: string): Promise<KeyObject | 'mismatch' | undefined> {
    const members = typeof jwk.kty === 'string' ? jwkThumbprintMembers[jwk.kty] : undefined;
    if (members === undefined) return undefined;
    const held = this.#held.get(jkt);
    // The same thumbprint members: the same thumbprint, without hashing again.
    if (held !== undefined && members.every((name) => held.jwk[name] === jwk[name])) return held.key;
    let thumbprint: string;
    let key: KeyObject;
    try {
      thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
      if (thumbprint !== jkt) return 'mismatch';
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      return undefined;
    }
    if (key.type !== 'public') return undefined;
    if (this.#held.size >= this.capacity) this.#held.delete(this.#held.keys().next().value!);
    this.#held.set(jkt, { jwk: Object.fromEntries(members.map((name) => [name, jwk[name]])), key });
    return key;
  }
}
