import { Metadata, type CallCredentials, type InterceptorOptions } from '@grpc/grpc-js';
import { cachedToken, type MethodPlan } from '../calls/method-plan.js';
import { bearerHeader, bearerValueFor, type BearerHeader, type SentToken } from './bearer-header.js';
import { callCredentialsFrom, type MetadataParams } from './call-credentials.js';
import { callEndedStatus, noOtherTokenStatus, tokenFailureStatus } from './status.js';

/**
 * Whether metadata already carries an `authorization` value.
 *
 * @internal
 * @example
 * ```ts
 * hasAuthorization(metadata); // true when the caller set its own header
 * ```
 */
function hasAuthorization(metadata: Metadata): boolean {
  return metadata.get('authorization').length > 0;
}

/**
 * One attempt of one call, and the token it sent.
 *
 * On the common path a usable token is cached: the attempt puts it into a copy of the call's metadata
 * itself, with no call credentials and nothing to wait for. Otherwise it carries per-call credentials
 * whose metadata generator waits for the token: only call credentials let grpc-js end a call at its
 * deadline while its token is pending (docs/grpc-js-facts.md, "The generator gets no deadline").
 * They are per call because the generator learns nothing about the call: when it ended, whether the
 * caller set its own `authorization`, and which token was sent all have to come from here.
 *
 * @internal
 * @example
 * ```ts
 * const attempt = new Attempt(plan, callOptions);
 * const call = nextCall(attempt.callOptions(callOptions));
 * call.start(attempt.metadataToSend(metadata), listener);
 * ```
 */
export class Attempt {
  /** Per-call credentials when the token has to be waited for; undefined when it was cached. */
  readonly credentials: CallCredentials | undefined;
  /** The caller's metadata has its own `authorization`; ours stays off. */
  callerAuthorization = false;
  /** The token object this attempt sent: its value to invalidate if the server rejects it, the rest for diagnostics. */
  sentToken: SentToken | undefined;
  /** Why no token could be attached (what the provider rejected with), for diagnostics; set only on that path. */
  failure: unknown;
  readonly #plan: MethodPlan;
  readonly #callerCredentials: CallCredentials | undefined;
  /** The cached token to send, and its header value; both undefined on the waiting path. */
  readonly #cachedToken: SentToken | undefined;
  readonly #cachedHeader: string | undefined;
  /** On a replay: the token the server just rejected, which must not be sent again. */
  readonly #rejectedAccessToken: string | undefined;
  /** Aborted when the call ends; created only once the call waits for a token. */
  #waiting: AbortController | undefined;
  #ended = false;

  constructor(plan: MethodPlan, callOptions: InterceptorOptions, rejectedAccessToken?: string) {
    this.#plan = plan;
    this.#callerCredentials = callOptions.credentials;
    this.#rejectedAccessToken = rejectedAccessToken;
    // The caller's own per-call credentials must run first (they may set authorization), so they
    // keep the waiting path.
    if (callOptions.credentials === undefined) {
      const cached = cachedToken(plan);
      const header =
        cached === undefined || cached.accessToken === rejectedAccessToken ? undefined : bearerValueFor(cached);
      if (cached !== undefined && header !== undefined) {
        this.#cachedToken = cached;
        this.#cachedHeader = header;
        this.credentials = undefined;
        return;
      }
    }
    this.credentials = callCredentialsFrom((params) => this.#metadata(params));
  }

  /** The token value this attempt sent, if it sent one of ours. */
  get accessToken(): string | undefined {
    return this.sentToken?.accessToken;
  }

  /** The call ended while this attempt still waited for its token (a deadline, for diagnostics). */
  get endedWaiting(): boolean {
    return this.#waiting !== undefined && this.sentToken === undefined;
  }

  /** The options for grpc-js's next call: with our per-call credentials, when there are any. */
  callOptions(callOptions: InterceptorOptions): InterceptorOptions {
    return this.credentials === undefined ? callOptions : { ...callOptions, credentials: this.credentials };
  }

  /**
   * The metadata to start the attempt with. The caller's object is never changed: a caller may pass
   * the same Metadata to many calls, and a token left in it would read as the caller's own header on
   * the next one (and stay there after the token expired). So the cached token goes into a copy.
   */
  metadataToSend(metadata: Metadata): Metadata {
    this.callerAuthorization = hasAuthorization(metadata);
    if (this.#cachedHeader === undefined || this.callerAuthorization) return metadata;
    const copy = metadata.clone();
    copy.set('authorization', this.#cachedHeader);
    this.sentToken = this.#cachedToken;
    return copy;
  }

  /**
   * The call ended (its deadline passed, it was cancelled, or the server answered): stop waiting for a
   * token. grpc-js ends a call at its deadline but never tells the metadata generator, so without this
   * a caller could wait on a hung token server long after its call is over. The token request itself
   * goes on, shared with other calls and bounded by the TokenManager's `requestTimeoutMs`.
   */
  end(): void {
    this.#ended = true;
    this.#waiting?.abort();
  }

  async #metadata(params: MetadataParams): Promise<Metadata> {
    // Per-call credentials the caller passed in CallOptions run first, and their errors pass through
    // as grpc-js would have passed them.
    const metadata = this.#callerCredentials ? await this.#callerCredentials.generateMetadata(params) : new Metadata();
    if (this.callerAuthorization || hasAuthorization(metadata)) {
      this.callerAuthorization = true;
      return metadata;
    }
    const { token, header } = await this.#bearerHeader();
    this.sentToken = token;
    metadata.set('authorization', header);
    return metadata;
  }

  async #bearerHeader(): Promise<BearerHeader> {
    if (this.#ended) throw callEndedStatus();
    // One controller per attempt: grpc-js may ask for metadata again when it picks another connection.
    const waiting = (this.#waiting ??= new AbortController());
    let token: BearerHeader;
    try {
      token = await bearerHeader(this.#plan.tokens, { ...this.#plan.getTokenOptions, signal: waiting.signal });
    } catch (error) {
      this.failure = error;
      // After the call ended grpc-js drops whatever the generator reports; the code is for the record.
      throw waiting.signal.aborted ? callEndedStatus() : tokenFailureStatus(error);
    }
    if (token.accessToken === this.#rejectedAccessToken) throw (this.failure = noOtherTokenStatus());
    return token;
  }
}
