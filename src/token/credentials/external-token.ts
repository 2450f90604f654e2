import { decodeJwt } from 'jose';
import { AuthConfigError } from '../../common/config-error.js';
import { describeThrown } from '../../common/describe.js';
import { checkNonEmptyString } from '../../common/option-checks.js';
import { within, type Clock } from '../../common/clock.js';
import { TokenError, configError } from '../errors.js';
import { RotatingFile } from './rotating-file.js';

/** A function that returns a token issued by someone else (a CI provider's OIDC token, say). */
export type TokenFunction = () => string | Promise<string>;

/** The clock, and how long one call of a user's function may take (`requestTimeoutMs`), in ms. */
export interface CallLimits {
  readonly clock: Clock;
  readonly timeoutMs: number;
}

/**
 * A token another party issues and we only pass on: a client assertion (RFC 7523 §2.2), the subject
 * or actor token of a token exchange (RFC 8693). It comes from a file the platform rotates, read
 * again when it changed, or from a function called for every request.
 */
export class ExternalToken {
  /** Names the option in messages, e.g. `'clientAssertionFile'`. */
  readonly what: string;
  readonly #file: RotatingFile | undefined;
  readonly #function: TokenFunction | undefined;
  readonly #limits: CallLimits;
  /** A client assertion must be a JWT; a subject token may be opaque (an access token). */
  readonly #mustBeJwt: boolean;
  #expiredNote: string | undefined;

  private constructor(what: string, source: RotatingFile | TokenFunction, limits: CallLimits, mustBeJwt: boolean) {
    this.what = what;
    if (source instanceof RotatingFile) this.#file = source;
    else this.#function = source;
    this.#limits = limits;
    this.#mustBeJwt = mustBeJwt;
  }

  /**
   * The token from the option pair `fileOption` / `functionOption` (exactly one of which is set).
   * @throws AuthConfigError when both or neither is given, or one has the wrong type.
   */
  static fromOptions(
    names: { readonly file: string; readonly function: string },
    values: { readonly file: unknown; readonly function: unknown },
    limits: CallLimits,
    mustBeJwt: boolean,
  ): ExternalToken {
    if (values.file !== undefined && values.function !== undefined)
      throw new AuthConfigError(`give ${names.file} or ${names.function}, not both`);
    if (values.function !== undefined) {
      if (typeof values.function !== 'function')
        throw new AuthConfigError(`${names.function} must be a function returning the token`);
      return new ExternalToken(names.function, values.function as TokenFunction, limits, mustBeJwt);
    }
    const path = checkNonEmptyString(values.file, names.file);
    return new ExternalToken(names.file, new RotatingFile(path, { what: names.file }), limits, mustBeJwt);
  }

  /** Whether the token comes from a file (which may be re-read on rotation). */
  get fromFile(): boolean {
    return this.#file !== undefined;
  }

  /**
   * The token to send now: the file's content (read again when the file changed) or the function's
   * answer. A JWT whose `exp` has passed by this machine's clock is sent all the same, as the clock
   * may be the one that is wrong (the token server judges on its own), and {@link ExternalToken.expiredNote}
   * then says when it expired, for the error if the server refuses it: an `invalid_client` or
   * `invalid_grant` alone (Entra's AADSTS700024) would hide the cause.
   */
  async current(): Promise<string> {
    const token = this.#file === undefined ? await this.#call(this.#function!) : await this.#file.read();
    this.#expiredNote = this.#check(token);
    return token;
  }

  /** When the token {@link ExternalToken.current} gave last had expired by this machine's clock; undefined when it had not. */
  get expiredNote(): string | undefined {
    return this.#expiredNote;
  }

  /** Reads the file again now (after `invalid_client`, say); `true` when it changed. A function has nothing to reload. */
  async reload(): Promise<boolean> {
    return this.#file === undefined ? false : this.#file.reload();
  }

  async #call(tokenFunction: TokenFunction): Promise<string> {
    let token: unknown;
    const { clock, timeoutMs } = this.#limits;
    // Bounded: a function that never settles would otherwise hold the scope set's one refresh forever.
    const timedOut = (): TokenError =>
      new TokenError('timeout', `${this.what} did not answer within ${timeoutMs} ms (requestTimeoutMs)`, {
        retryable: true,
      });
    try {
      token = await within(Promise.resolve().then(tokenFunction), clock, timeoutMs, timedOut);
    } catch (err) {
      if (err instanceof TokenError) throw err;
      // The function's message is not ours to vouch for: it may quote the token.
      throw new TokenError('config', `${this.what} failed with ${describeThrown(err)} (message withheld)`, {
        retryable: true,
      });
    }
    if (typeof token !== 'string' || token.trim() === '')
      throw configError(`${this.what} must return a non-empty string`);
    return token.trim();
  }

  /** Refuses a token that must be a JWT and is not; returns a note when a JWT's `exp` has passed by this machine's clock. */
  #check(token: string): string | undefined {
    const where = this.#file === undefined ? this.what : `${this.what} ${this.#file.path}`;
    let exp: unknown;
    try {
      exp = decodeJwt(token).exp;
    } catch {
      if (this.#mustBeJwt) throw configError(`${where} does not hold a JWT`);
      return undefined;
    }
    if (typeof exp !== 'number') return undefined;
    const expiredForSec = Math.floor((this.#limits.clock.now() - exp * 1000) / 1000);
    if (expiredForSec < 0) return undefined;
    const fix =
      this.#file === undefined
        ? 'the function returned a stale token'
        : 'whatever writes the file has stopped rotating it';
    const when = `${new Date(exp * 1000).toISOString()} (${expiredForSec} s ago by this machine's clock)`;
    return `${where} holds a JWT that expired at ${when}; ${fix}, or this machine's clock is ahead`;
  }
}
