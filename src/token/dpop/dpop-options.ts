import type { Clock } from '../../common/clock.js';
import { checkBoolean, checkOptionNames } from '../../common/option-checks.js';
import { checkDpopPrivateKey, DpopKey, type DpopPrivateKeyInput } from './dpop-key.js';

/**
 * The `dpop` option of a TokenManager (RFC 9449): token requests carry a DPoP proof and the tokens
 * come back bound to the key (`token_type: DPoP`, `cnf.jkt`).
 */
export interface DpopOptions {
  /**
   * The key the tokens are bound to: a P-256 (`ES256`) or Ed25519 (`EdDSA`) private key as PKCS#8
   * PEM, a private JWK, a node `KeyObject` or a `CryptoKey`. Default: a P-256 key pair generated in
   * memory when the manager is created (its private key not extractable), new in every process.
   */
  privateKey?: DpopPrivateKeyInput;
  /**
   * Accept a token the server issued as `token_type: Bearer` to a DPoP request (a server without
   * DPoP support). Default false: such an answer is a `TokenError` (`invalid_response`).
   */
  acceptBearer?: boolean;
}

const dpopOptionNames = ['privateKey', 'acceptBearer'] as const satisfies readonly (keyof DpopOptions)[];

/** A checked `dpop` option: the key (being imported or generated) and whether bearer answers are accepted. */
export interface ResolvedDpop {
  readonly key: Promise<DpopKey>;
  readonly acceptBearer: boolean;
}

/**
 * Checks the `dpop` option at construction and starts making its key.
 * @throws AuthConfigError naming the bad member (never the key's value).
 */
export function resolveDpop(options: DpopOptions | undefined, clock: Clock): ResolvedDpop | undefined {
  if (options === undefined) return undefined;
  checkOptionNames(options, dpopOptionNames, 'dpop option');
  const acceptBearer = checkBoolean(options.acceptBearer, 'dpop.acceptBearer') ?? false;
  if (options.privateKey !== undefined) checkDpopPrivateKey(options.privateKey, 'dpop.privateKey');
  const key = options.privateKey === undefined ? DpopKey.generate(clock) : DpopKey.from(options.privateKey, clock);
  // Awaited by the first token request; a failure there is reported to it, not as an unhandled rejection.
  key.catch(() => undefined);
  return { key, acceptBearer };
}
