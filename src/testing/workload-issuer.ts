// What a workload platform does, for tests of secret-free service accounts: sign short-lived JWTs
// about a workload (a Kubernetes cluster, a SPIFFE trust domain, a CI provider) and write them to
// a file, replacing the file atomically as the kubelet does.
import { randomUUID } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { AuthConfigError } from '../common/config-error.js';
import { checkNonEmptyString, checkOptionNames } from '../common/option-checks.js';

/** Options of {@link MockWorkloadIssuer.create}. */
export interface MockWorkloadIssuerOptions {
  /** The `iss` of its JWTs. Default `'https://kubernetes.default.svc'`. */
  issuer?: string;
  /** Where time comes from for `iat` and `exp`, in milliseconds since the epoch. Default `Date.now`. Pass your `ManualClock`. */
  clock?: {
    /** The current time, in milliseconds since the epoch. */
    now(): number;
  };
}

/** What {@link MockWorkloadIssuer.sign} puts in a JWT. */
export interface WorkloadTokenClaims {
  /** `sub`, e.g. `'system:serviceaccount:shop:orders'` or `'spiffe://shop.example/orders'`. */
  subject: string;
  /** `aud`: the token endpoint or issuer of the authorization server that takes it. */
  audience: string | string[];
  /** `exp - iat`, in seconds; 0 or less makes a token that has already expired. Default 3600. */
  lifetimeSec?: number;
  /** More claims (a Kubernetes token's `kubernetes.io` claim, say). */
  claims?: JWTPayload;
}

const createOptionNames = ['issuer', 'clock'] as const satisfies readonly (keyof MockWorkloadIssuerOptions)[];
const claimNames = [
  'subject',
  'audience',
  'lifetimeSec',
  'claims',
] as const satisfies readonly (keyof WorkloadTokenClaims)[];

/**
 * A JWT issuer for tests, with a fresh ES256 key: register its `issuer` and `publicJwk` with the
 * MockTokenServer (`addClient({ federatedCredential })` or `addSubjectTokenIssuer`), then write its
 * tokens to a file as the platform would.
 *
 * @example
 * ```ts
 * const cluster = await MockWorkloadIssuer.create({ clock });
 * server.addClient({ clientId: 'orders-svc', federatedCredential: { issuer: cluster.issuer, subject: 'system:serviceaccount:shop:orders', publicKey: cluster.publicJwk } });
 * await cluster.writeTokenFile(path, { subject: 'system:serviceaccount:shop:orders', audience: server.tokenEndpoint });
 * ```
 */
export class MockWorkloadIssuer {
  /** The `iss` of its JWTs. */
  readonly issuer: string;
  /** Its public key, to register with a token server. */
  readonly publicJwk: JWK;
  readonly #privateKey: CryptoKey;
  readonly #clock: { now(): number };

  private constructor(issuer: string, publicJwk: JWK, privateKey: CryptoKey, clock: { now(): number }) {
    this.issuer = issuer;
    this.publicJwk = publicJwk;
    this.#privateKey = privateKey;
    this.#clock = clock;
  }

  /** @throws AuthConfigError (as a rejection) for an unknown or mistyped option. */
  static async create(options: MockWorkloadIssuerOptions = {}): Promise<MockWorkloadIssuer> {
    checkOptionNames(options, createOptionNames, 'MockWorkloadIssuer option');
    if (options.issuer !== undefined) checkNonEmptyString(options.issuer, 'MockWorkloadIssuer option issuer');
    if (options.clock !== undefined && typeof options.clock?.now !== 'function')
      throw new AuthConfigError('MockWorkloadIssuer option clock must have now()');
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
    return new MockWorkloadIssuer(
      options.issuer ?? 'https://kubernetes.default.svc',
      publicJwk,
      privateKey,
      options.clock ?? { now: () => Date.now() },
    );
  }

  /** A signed JWT with `iss`, `sub`, `aud`, `iat`, `exp` and `jti`. */
  async sign(token: WorkloadTokenClaims): Promise<string> {
    checkOptionNames(token, claimNames, 'workload token option');
    const nowSec = Math.floor(this.#clock.now() / 1000);
    return new SignJWT({ ...token.claims })
      .setProtectedHeader({ alg: 'ES256', kid: this.publicJwk.kid!, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(token.subject)
      .setAudience(token.audience)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + (token.lifetimeSec ?? 3600))
      .setJti(randomUUID())
      .sign(this.#privateKey);
  }

  /** Signs a JWT and writes it to `path` with {@link writeTokenFile}; resolves with the JWT. */
  async writeTokenFile(path: string, token: WorkloadTokenClaims): Promise<string> {
    const jwt = await this.sign(token);
    await writeTokenFile(path, jwt);
    return jwt;
  }
}

/**
 * Writes `content` to `path` atomically (a temporary file in the same directory, then a rename), so
 * a reader sees the old content or the new, never half of it, as with the kubelet's projected
 * volumes. Use it to write a token file for `TokenManager.fromTokenFile`, a client assertion file or
 * a subject token file.
 */
export async function writeTokenFile(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  await writeFile(temporary, content, { mode: 0o600 });
  await rename(temporary, path);
}
