import { createHash } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, type CompactJWEHeaderParameters } from 'jose';
import { AuthConfigError } from '../common/config-error.js';
import type { SharedToken } from '../token/cache/shared-cache.js';
import { RedisTokenCacheError } from './errors.js';
import { describeType } from '../common/describe.js';

/**
 * A 32-byte AES-256 key: the bytes, or their base64 (or base64url) text. Generate one with
 * `openssl rand -base64 32`.
 */
export type EncryptionKeyInput = Uint8Array | string;

/** A key and the id written in the header of the entries it encrypts. */
interface EntryKey {
  readonly id: string;
  readonly bytes: Uint8Array;
}

/** Entries are compact JWEs (RFC 7516): `dir` key agreement, A256GCM content encryption. */
const decryptOptions = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] };

/**
 * Encrypts and decrypts shared entries with AES-256-GCM through jose (a fresh random 96-bit IV per
 * entry, an authentication tag over the header and the content). The header names the Redis key
 * the entry belongs to and is authenticated with it, so an entry copied under another key, or
 * written with another encryption key, does not decrypt into a token.
 * With several keys (rotation), the first encrypts and all decrypt.
 */
export class EntryCipher {
  readonly #keys: readonly EntryKey[];

  constructor(input: EncryptionKeyInput | readonly EncryptionKeyInput[]) {
    const list = Array.isArray(input) ? (input as readonly EncryptionKeyInput[]) : [input as EncryptionKeyInput];
    if (list.length === 0) throw new AuthConfigError('encryptionKey must be a 32-byte key or a non-empty list of them');
    this.#keys = list.map((key, index) =>
      toEntryKey(key, list.length === 1 ? 'encryptionKey' : `encryptionKey[${index}]`),
    );
  }

  /** The entry for `token`, as stored under `redisKey`. */
  async seal(redisKey: string, token: SharedToken): Promise<string> {
    const key = this.#keys[0] as EntryKey;
    const payload = {
      accessToken: token.accessToken,
      expiresAtMs: token.expiresAt.getTime(),
      refreshAtMs: token.refreshAt?.getTime(),
      scopes: token.scopes,
    };
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.id, key: redisKey })
      .encrypt(key.bytes);
  }

  /** The token in `entry`, read from `redisKey`; throws a `bad_entry` RedisTokenCacheError otherwise. */
  async open(redisKey: string, entry: string): Promise<SharedToken> {
    let plaintext: Uint8Array;
    try {
      const result = await compactDecrypt(
        entry,
        (header: CompactJWEHeaderParameters) => this.#keyFor(header.kid),
        decryptOptions,
      );
      if (result.protectedHeader.key !== redisKey) throw new Error('entry of another key');
      plaintext = result.plaintext;
    } catch {
      // jose's message is not needed: every cause means the same to the manager, a miss.
      throw badEntry(
        redisKey,
        'does not decrypt with encryptionKey (another key wrote it, or it was altered or moved)',
      );
    }
    return parsePayload(redisKey, plaintext);
  }

  #keyFor(id: unknown): Uint8Array {
    const key = this.#keys.find((candidate) => candidate.id === id);
    if (key === undefined) throw new Error('unknown key id');
    return key.bytes;
  }
}

function parsePayload(redisKey: string, plaintext: Uint8Array): SharedToken {
  let parsed: Record<string, unknown> | null = null;
  try {
    parsed = JSON.parse(new TextDecoder().decode(plaintext)) as Record<string, unknown> | null;
  } catch {
    // Reported below as a malformed entry.
  }
  const { accessToken, expiresAtMs, refreshAtMs, scopes } = parsed ?? {};
  const valid =
    typeof accessToken === 'string' &&
    accessToken !== '' &&
    Number.isFinite(expiresAtMs) &&
    (refreshAtMs === undefined || Number.isFinite(refreshAtMs)) &&
    Array.isArray(scopes) &&
    scopes.every((scope) => typeof scope === 'string');
  if (!valid) throw badEntry(redisKey, 'decrypts to something that is not a token entry');
  return {
    accessToken,
    expiresAt: new Date(expiresAtMs as number),
    refreshAt: refreshAtMs === undefined ? undefined : new Date(refreshAtMs as number),
    scopes,
  };
}

function badEntry(redisKey: string, why: string): RedisTokenCacheError {
  return new RedisTokenCacheError('bad_entry', `the entry under ${redisKey} ${why}; fetching a new token`);
}

const base64Key = /^[A-Za-z0-9+/_-]{43}=?$/;

function toEntryKey(input: EncryptionKeyInput, name: string): EntryKey {
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    // Never quote the value: it is the key.
    if (!base64Key.test(input))
      throw new AuthConfigError(
        `${name} must be 32 bytes, or their base64 text (44 characters, as from "openssl rand -base64 32")`,
      );
    bytes = new Uint8Array(Buffer.from(input, 'base64'));
  } else if (input instanceof Uint8Array) {
    if (input.byteLength !== 32)
      throw new AuthConfigError(`${name} must be exactly 32 bytes for AES-256-GCM, not ${input.byteLength}`);
    bytes = new Uint8Array(input);
  } else {
    throw new AuthConfigError(
      `${name} must be a Uint8Array (Buffer) of 32 bytes or a base64 string, not ${describeType(input)}`,
    );
  }
  // The id tells which key wrote an entry, without revealing anything about the key.
  const id = createHash('sha256')
    .update('grpc-oauth2-credentials entry key id\0')
    .update(bytes)
    .digest('base64url')
    .slice(0, 16);
  return { id, bytes };
}
