// One DPoP proof (RFC 9449 §4.3) checked against the call it came with: its shape and size before
// any parsing, then its header (`typ`, an asymmetric `alg`, a public `jwk`), the `jwk`'s thumbprint
// against the token's `cnf.jkt`, its signature by that key (jose), its claims (`htm`, `htu`, `iat`,
// `jti`, `ath`), and last that it was not seen before.
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { asymmetricAlgorithms, privateJwkMembers } from '../common/jws-algorithms.js';
import { isCompactJws } from './bearer.js';
import { Denial } from './denial.js';
import type { DpopKeys } from './dpop-keys.js';
import type { DpopReplayCache } from './dpop-replay-cache.js';
import { VerifiedTokenCache } from './verified-cache.js';

/** Largest proof looked at, in bytes: a proof with an RSA 4096 key is about 2 KB. */
const maxProofBytes = 8192;

/** Longest `jti` accepted, in characters (a UUID has 36, 256 bits in base64url 43); the testing kit's token server takes the same. */
export const maxJtiLength = 256;

/** Longest `htu` looked at, in characters. */
const maxHtuLength = 2048;

/** The asymmetric JWS algorithms a proof may use; never `none` or HMAC (RFC 9449 §4.2). A mutable copy: jose takes `string[]`. */
const proofAlgorithms: string[] = [...asymmetricAlgorithms];

const dpopMissing = new Denial('dpop_missing', 'DPoP-bound token without a dpop proof');
const invalid = (what: string): Denial => new Denial('dpop_invalid', `invalid DPoP proof: ${what}`);
const keyMismatch = new Denial(
  'dpop_key_mismatch',
  'the DPoP proof is signed by another key than the token is bound to',
);
const replayed = new Denial('dpop_replayed', 'DPoP proof already used (jti seen before)');

/** What a proof is checked against. */
export interface ProofContext {
  /** Every `dpop` value the call carries. */
  readonly proofs: readonly unknown[];
  /** The access token (for `ath`). */
  readonly token: string;
  /** `https://<the call's :authority>/<package.Service>/<Method>`, normalized by `URL`; `undefined` if the call has no authority. */
  readonly htu: string | undefined;
  /** The token's `cnf.jkt`. */
  readonly jkt: string;
  readonly nowMs: number;
  /** Longest age of a proof (`iat`), in seconds. */
  readonly maxAgeSec: number;
  /** Clock skew allowed both ways, in seconds. */
  readonly toleranceSec: number;
  readonly replays: DpopReplayCache;
  readonly keys: DpopKeys;
}

/**
 * The htu a proof for `method` on `authority` must have: `https://<authority>/<method>` through the
 * WHATWG URL parser (lower-case host, `:443` dropped), or `undefined` when that is not a URL.
 */
export function expectedHtu(authority: string | undefined, method: string): string | undefined {
  if (authority === undefined || authority === '' || /[/?#@\\\s]/.test(authority)) return undefined;
  return URL.parse(`https://${authority}${method}`)?.href;
}

/** The denial for the call's proof, or `undefined` when it holds. Never throws; never quotes the proof. */
export async function checkProof(context: ProofContext): Promise<Denial | undefined> {
  const { proofs } = context;
  if (proofs.length === 0) return dpopMissing;
  if (proofs.length > 1) return invalid('more than one dpop value');
  const [proof] = proofs;
  if (typeof proof !== 'string') return invalid('not text');
  if (proof.length > maxProofBytes) return invalid(`larger than ${maxProofBytes} bytes`);
  if (!isCompactJws(proof)) return invalid('not a compact JWS');
  const header = headerOf(proof);
  if (header instanceof Denial) return header;
  const key = await context.keys.keyFor(header.jwk, context.jkt);
  if (key === 'mismatch') return keyMismatch;
  if (key === undefined) return invalid('jwk is not a public key');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(proof, key, {
      typ: 'dpop+jwt',
      algorithms: proofAlgorithms,
      currentDate: new Date(context.nowMs),
      clockTolerance: context.toleranceSec,
    }));
  } catch {
    return invalid('signature or structure');
  }
  const claimsDenial = checkClaims(payload, context);
  if (claimsDenial !== undefined) return claimsDenial;
  const untilMs = ((payload.iat as number) + context.maxAgeSec + context.toleranceSec) * 1000;
  return context.replays.firstUse(`${context.jkt}.${payload.jti as string}`, untilMs, context.nowMs)
    ? undefined
    : replayed;
}

/** The proof's header, checked: `typ`, `alg` and a public `jwk`; or the denial. */
function headerOf(proof: string): { jwk: Record<string, unknown> } | Denial {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    return invalid('unreadable header');
  }
  if (header.typ !== 'dpop+jwt') return invalid('typ is not dpop+jwt');
  if (typeof header.alg !== 'string' || !proofAlgorithms.includes(header.alg))
    return invalid('alg is not an accepted asymmetric algorithm');
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return invalid('no jwk');
  if (privateJwkMembers.some((name) => Object.hasOwn(jwk, name))) return invalid('jwk holds private key members');
  const { use, alg } = jwk as Record<string, unknown>;
  if ((use !== undefined && use !== 'sig') || (alg !== undefined && alg !== header.alg))
    return invalid("jwk's use or alg does not fit");
  return { jwk: jwk as Record<string, unknown> };
}

function checkClaims(payload: JWTPayload, context: ProofContext): Denial | undefined {
  if (payload.htm !== 'POST') return invalid('htm is not POST');
  if (!htuMatches(payload.htu, context.htu)) return invalid("htu is not this call's https://<authority>/<method>");
  const { iat } = payload;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return invalid('no iat');
  const nowSec = context.nowMs / 1000;
  if (iat > nowSec + context.toleranceSec) return invalid('iat in the future');
  if (iat < nowSec - context.maxAgeSec - context.toleranceSec) return invalid('iat too old');
  const { jti } = payload;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > maxJtiLength)
    return invalid(`jti missing or longer than ${maxJtiLength} characters`);
  if (payload.ath !== VerifiedTokenCache.keyOf(context.token)) return invalid("ath is not the token's hash");
  return undefined;
}

/**
 * Whether the proof's `htu` names this call: no query or fragment at all (the client side never
 * sends them), then compared after the URL parser's normalization (RFC 9449 §4.3 point 9 with
 * RFC 3986 §6.2.2 and §6.2.3: case of scheme and host, default port, percent-encoding).
 */
function htuMatches(htu: unknown, expected: string | undefined): boolean {
  if (expected === undefined || typeof htu !== 'string' || htu.length > maxHtuLength) return false;
  if (htu.includes('?') || htu.includes('#')) return false;
  return URL.parse(htu)?.href === expected;
}
