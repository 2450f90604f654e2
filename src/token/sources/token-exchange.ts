import { AuthConfigError } from '../../common/config-error.js';
import { checkNonEmptyString, checkOptionNames } from '../../common/option-checks.js';
import { ExternalToken, type CallLimits, type TokenFunction } from '../credentials/external-token.js';
import { TokenError } from '../errors.js';
import { RecentSecrets } from '../../common/redact.js';

/** The `grant_type` of OAuth 2.0 Token Exchange (RFC 8693 §2.1). */
export const tokenExchangeGrantType = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** The `issued_token_type` of an access token (RFC 8693 §3). */
const accessTokenType = 'urn:ietf:params:oauth:token-type:access_token';
/** A token type URI of RFC 8693 §3's form, safe to name in a message; any other server string is not. */
const nameableTokenType = /^urn:ietf:params:oauth:token-type:[a-z0-9_]{1,40}$/;

/**
 * The `tokenExchange` option: get tokens with RFC 8693 token exchange instead of client credentials,
 * trading a token the platform gives the workload (the subject token) for one the API accepts.
 * `audience`, `resource` and `scopes` of the TokenManager are sent as usual.
 */
export interface TokenExchangeOptions {
  /** File holding the subject token (a projected service-account token, say); read again when it changes. */
  subjectTokenFile?: string;
  /** Function returning the subject token, called for every token request. Instead of `subjectTokenFile`. */
  subjectToken?: TokenFunction;
  /** `subject_token_type`, e.g. `'urn:ietf:params:oauth:token-type:jwt'`. Required. */
  subjectTokenType: string;
  /** File holding the actor token (delegation, RFC 8693 §1.1); read again when it changes. Default none. */
  actorTokenFile?: string;
  /** Function returning the actor token, called for every token request. Instead of `actorTokenFile`. */
  actorToken?: TokenFunction;
  /** `actor_token_type`; required with an actor token. */
  actorTokenType?: string;
  /**
   * `requested_token_type`. Default: not sent (the server's choice, usually an access token). An answer
   * whose `issued_token_type` is neither an access token nor this type (a refresh or ID token, say) is
   * refused with `invalid_response`.
   */
  requestedTokenType?: string;
}

// A record, so the compiler checks the names against the interface both ways.
const optionNames = Object.keys({
  subjectTokenFile: true,
  subjectToken: true,
  subjectTokenType: true,
  actorTokenFile: true,
  actorToken: true,
  actorTokenType: true,
  requestedTokenType: true,
} satisfies Record<keyof TokenExchangeOptions, true>);

/**
 * A grant other than client credentials that a client makes with its own authentication: its grant
 * type and the parameters of one request, read fresh for each.
 */
export interface ClientGrant {
  readonly grantType: string;
  /** The grant's own parameters for one request. */
  parameters(): Promise<Record<string, string>>;
  /** Reads the grant's files again (after `invalid_grant`); `true` when one changed. */
  reloadCredentials(): Promise<boolean>;
  /** The tokens it sent lately, to scrub from anything the server sends back. */
  secretValues(): Iterable<string>;
  /** Notes on the tokens it sent last that had expired by this machine's clock (see `ExternalToken.expiredNote`). */
  expiredNotes(): string[];
  /** Throws a TokenError when the grant's answer is not a token to serve. */
  checkAnswer(answer: Readonly<Record<string, unknown>>, endpoint: string): void;
}

/**
 * RFC 8693 token exchange: `subject_token` (and `actor_token`) from files re-read on rotation or
 * from functions, with their types. The files are re-read for the same reason as a client
 * assertion's: the platform rotates them, and the server refuses an expired one.
 */
export class TokenExchangeGrant implements ClientGrant {
  readonly grantType = tokenExchangeGrantType;
  readonly #subject: ExternalToken;
  readonly #subjectType: string;
  readonly #actor: { readonly token: ExternalToken; readonly type: string } | undefined;
  readonly #requestedType: string | undefined;
  readonly #sent = new RecentSecrets();

  /** @throws AuthConfigError naming the bad or unknown `tokenExchange` option (with the likely intended name). */
  constructor(options: unknown, limits: CallLimits) {
    if (typeof options !== 'object' || options === null) throw new AuthConfigError('tokenExchange must be an object');
    checkOptionNames(options, optionNames, 'tokenExchange option');
    const given = options as Partial<TokenExchangeOptions>;
    const subject = { file: given.subjectTokenFile, function: given.subjectToken };
    if (subject.file === undefined && subject.function === undefined)
      throw new AuthConfigError('tokenExchange needs subjectTokenFile or subjectToken');
    this.#subject = ExternalToken.fromOptions(
      { file: 'tokenExchange.subjectTokenFile', function: 'tokenExchange.subjectToken' },
      subject,
      limits,
      false,
    );
    this.#subjectType = checkNonEmptyString(given.subjectTokenType, 'tokenExchange.subjectTokenType');
    if (given.actorTokenFile !== undefined || given.actorToken !== undefined) {
      const names = { file: 'tokenExchange.actorTokenFile', function: 'tokenExchange.actorToken' };
      const token = ExternalToken.fromOptions(
        names,
        { file: given.actorTokenFile, function: given.actorToken },
        limits,
        false,
      );
      this.#actor = {
        token,
        type: checkNonEmptyString(given.actorTokenType, 'tokenExchange.actorTokenType'),
      };
    } else if (given.actorTokenType !== undefined) {
      throw new AuthConfigError('tokenExchange.actorTokenType needs actorTokenFile or actorToken');
    }
    this.#requestedType =
      given.requestedTokenType === undefined
        ? undefined
        : checkNonEmptyString(given.requestedTokenType, 'tokenExchange.requestedTokenType');
  }

  async parameters(): Promise<Record<string, string>> {
    const parameters: Record<string, string> = {
      subject_token: await this.#subject.current(),
      subject_token_type: this.#subjectType,
    };
    this.#sent.remember(parameters.subject_token);
    if (this.#actor !== undefined) {
      parameters.actor_token = await this.#actor.token.current();
      parameters.actor_token_type = this.#actor.type;
      this.#sent.remember(parameters.actor_token);
    }
    if (this.#requestedType !== undefined) parameters.requested_token_type = this.#requestedType;
    return parameters;
  }

  async reloadCredentials(): Promise<boolean> {
    const [subject, actor] = await Promise.all([this.#subject.reload(), this.#actor?.token.reload() ?? false]);
    return subject || actor;
  }

  secretValues(): Iterable<string> {
    return this.#sent.forms();
  }

  expiredNotes(): string[] {
    return [this.#subject.expiredNote, this.#actor?.token.expiredNote].filter((note) => note !== undefined);
  }

  /**
   * RFC 8693 §2.2.1: `issued_token_type` says what came back, and `token_type: Bearer` does not make a
   * refresh or ID token fit to call an API with. Served: an access token, the `requestedTokenType`, or
   * an answer that does not say (the field is required, but some servers leave it out).
   *
   * @throws TokenError `invalid_response` (retryable, as every unusable answer is) for any other type.
   */
  checkAnswer(answer: Readonly<Record<string, unknown>>, endpoint: string): void {
    const issued = answer.issued_token_type;
    if (issued === undefined || issued === accessTokenType || issued === this.#requestedType) return;
    const named =
      typeof issued === 'string' && nameableTokenType.test(issued)
        ? `issued_token_type ${issued}`
        : 'an issued_token_type that is not an RFC 8693 token type';
    throw new TokenError(
      'invalid_response',
      `token endpoint ${endpoint} sent ${named}, not an access token${this.#requestedType === undefined ? '' : ' or the requestedTokenType'}; only those are served`,
      { retryable: true },
    );
  }
}
