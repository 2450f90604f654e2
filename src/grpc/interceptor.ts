import {
  credentials,
  InterceptingCall,
  Metadata,
  status,
  type CallCredentials,
  type ChannelCredentials,
  type InterceptingListener,
  type Interceptor,
  type InterceptorOptions,
  type NextCall,
  type StatusObject,
} from '@grpc/grpc-js';
import { normalizeScopes } from '../token/scopes.js';
import type { GetTokenOptions, TokenProvider } from '../token/token-provider.js';
import { bearerHeader, bearerValueFor } from './call-credentials.js';
import { carriesOurCallCredentials, InsecureChannelError, isSecureChannel } from './channel-credentials.js';
import { callEndedStatus, tokenFailureStatus } from './status.js';

// grpc-js does not export these names; derive them from what it does export.
type InterceptingCallInterface = ReturnType<NextCall>;
type MessageContext = Parameters<InterceptingCallInterface['sendMessageWithContext']>[0];
type CallMetadataOptions = Parameters<CallCredentials['generateMetadata']>[0];

/**
 * Options of {@link createAuthInterceptor}.
 *
 * @example
 * ```ts
 * const tls = grpc.credentials.createSsl(ca);
 * const options: AuthInterceptorOptions = {
 *   channelCredentials: tls,
 *   scopesFor: (method) => (method.startsWith('/inventory.v1.') ? ['inventory.read'] : undefined),
 * };
 * ```
 */
export interface AuthInterceptorOptions {
  /**
   * The channel credentials the client was created with. Required: it is how the interceptor knows
   * whether the channel is encrypted, since grpc-js sends per-call credentials over plaintext too.
   * Insecure credentials are refused with an {@link InsecureChannelError} unless
   * `allowInsecureChannel` is set.
   */
  channelCredentials: ChannelCredentials;
  /**
   * Picks the scopes for a method from its full path (`/pkg.Service/Method`). Return `undefined` for
   * the TokenManager's configured scopes. Called once per method; each distinct scope set gets its
   * own cached token. Default: the configured scopes for every method.
   */
  scopesFor?: (methodPath: string) => readonly string[] | undefined;
  /**
   * When a unary or server-streaming call ends `UNAUTHENTICATED` before any response, forget the token
   * it carried and make the call once more with a fresh token. Client-streaming and bidi calls are
   * never replayed. Default `true`.
   */
  retryOnUnauthenticated?: boolean;
  /**
   * Attach tokens even though `channelCredentials` are insecure: every token then travels in plaintext.
   * For local development against a plaintext server only; a warning is emitted once per process.
   * Default `false`.
   */
  allowInsecureChannel?: boolean;
}

/**
 * A grpc-js client interceptor that puts `authorization: Bearer <token>` on every call: unary,
 * client-streaming, server-streaming and bidi.
 *
 * - **Insecure channels**: refused at construction with an {@link InsecureChannelError} (nothing is
 *   sent, no token is fetched) unless `allowInsecureChannel: true`.
 * - **The caller's own `authorization` wins.** A call whose metadata (or per-call credentials) already
 *   carries `authorization` is sent with that header and without ours: grpc-js would fail a call with
 *   two values and drop the connection, ending every other call on it.
 * - **Deadlines**: waiting for a token ends when the call does (deadline, cancellation); the call ends
 *   `DEADLINE_EXCEEDED` on time even while the token server hangs.
 * - **Token failures** end the call without reaching the server: `UNAVAILABLE` when retrying may help,
 *   `UNAUTHENTICATED` when it will not.
 * - **Rejected tokens**: see `retryOnUnauthenticated`.
 *
 * Call-level `interceptors` in `CallOptions` replace the client's interceptors in grpc-js, this one
 * included; {@link createChannelCredentials} has no such gap and is the safer choice when every call
 * uses the same scopes.
 *
 * @param tokens - where tokens come from, normally a {@link TokenManager}.
 * @throws InsecureChannelError for insecure `channelCredentials` without `allowInsecureChannel`.
 * @throws TypeError for options that are not usable (the message names the option).
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { TokenManager, createAuthInterceptor } from 'grpc-oauth2-credentials';
 *
 * const tokens = new TokenManager({ tokenEndpoint, clientId, clientSecret, scopes: ['orders.read'] });
 * const tls = grpc.credentials.createSsl(ca);
 * const client = new OrdersClient('orders.example.com:443', tls, {
 *   interceptors: [
 *     createAuthInterceptor(tokens, {
 *       channelCredentials: tls,
 *       scopesFor: (method) => (method === '/orders.v1.Orders/PlaceOrder' ? ['orders.write'] : undefined),
 *     }),
 *   ],
 * });
 * ```
 */
export function createAuthInterceptor(tokens: TokenProvider, options: AuthInterceptorOptions): Interceptor {
  if (typeof tokens?.getToken !== 'function' || typeof tokens.invalidate !== 'function') {
    throw new TypeError('createAuthInterceptor: tokens must be a TokenProvider such as a TokenManager');
  }
  const { channelCredentials, scopesFor, retryOnUnauthenticated = true, allowInsecureChannel = false } = options ?? {};
  if (!isSecureChannel(channelCredentials, 'createAuthInterceptor')) {
    if (!allowInsecureChannel) {
      throw new InsecureChannelError(
        'createAuthInterceptor: refusing to attach OAuth2 access tokens to insecure (plaintext) channel credentials: ' +
          'anyone on the network path could read the token and reuse it. Create the client with TLS channel credentials ' +
          '(grpc.credentials.createSsl(caCertificate)) and pass the same object as channelCredentials; ' +
          'for local development only, set allowInsecureChannel: true.',
      );
    }
    warnInsecureChannelOnce();
  }
  if (carriesOurCallCredentials(channelCredentials)) {
    throw new TypeError(
      'createAuthInterceptor: channelCredentials already carry call credentials (from createChannelCredentials or ' +
        'combineChannelCredentials), which attach their own header; pass the plain TLS credentials, or use the composed ' +
        'credentials without this interceptor (two authorization headers make grpc-js drop the connection)',
    );
  }
  if (scopesFor !== undefined && typeof scopesFor !== 'function') {
    throw new TypeError('createAuthInterceptor: scopesFor must be a function (methodPath) => scopes | undefined');
  }

  // Everything that depends only on the method is worked out on its first call.
  const plans = new Map<string, MethodPlan>();
  const planFor = (definition: InterceptorOptions['method_definition']): MethodPlan => {
    let plan = plans.get(definition.path);
    if (plan === undefined) {
      const scopes = scopesFor ? checkedScopes(scopesFor(definition.path), definition.path) : undefined;
      plan = {
        tokens,
        getTokenOptions: scopes ? { scopes } : undefined,
        replayable: retryOnUnauthenticated && !definition.requestStream,
      };
      plans.set(definition.path, plan);
    }
    return plan;
  };

  return (callOptions, nextCall) => {
    const plan = planFor(callOptions.method_definition);
    if (plan.replayable) return new InterceptingCall(new ReplayingCall(plan, callOptions, nextCall));
    const attempt = new Attempt(plan, callOptions, true);
    return new InterceptingCall(nextCall(attempt.callOptions(callOptions)), {
      start(metadata, _listener, next) {
        attempt.start(metadata);
        // A Listener (not an InterceptingListener): grpc-js chains it to the caller's listener.
        next(metadata, {
          onReceiveStatus(callStatus, nextStatus) {
            attempt.end();
            nextStatus(callStatus);
          },
        });
      },
    });
  };
}

/** What every call of one method shares. */
interface MethodPlan {
  readonly tokens: TokenProvider;
  /** `undefined` asks for the TokenManager's configured scopes. */
  readonly getTokenOptions: GetTokenOptions | undefined;
  /** Unary and server-streaming calls send exactly one request message, so they can be made again. */
  readonly replayable: boolean;
}

/**
 * One attempt of one call, and the token it sent.
 *
 * On the common path a usable token is cached: the attempt puts it in the call's metadata itself, with
 * no call credentials and nothing to wait for. Otherwise it carries per-call credentials whose
 * metadata generator waits for the token: only call credentials let grpc-js end a call at its deadline
 * while its token is pending (exp7). They are per call because the generator learns nothing about the
 * call (grpc-js passes only `service_url` and `method_name`): when the call ends, whether the caller
 * set its own `authorization`, and which token was sent all have to come from here.
 */
class Attempt {
  /** Per-call credentials when the token has to be waited for; undefined when it was cached. */
  readonly credentials: CallCredentials | undefined;
  /** The caller's metadata has its own `authorization`; ours stays off. */
  callerAuthorization = false;
  /** The token this attempt sent, to invalidate if the server rejects it. */
  accessToken: string | undefined;
  readonly #plan: MethodPlan;
  readonly #callerCredentials: CallCredentials | undefined;
  /** The cached token to put in the metadata at start, with its header value. */
  readonly #cached: { readonly accessToken: string; readonly header: string } | undefined;
  /** Aborted when the call ends; created only once the call waits for a token. */
  #waiting: AbortController | undefined;
  #ended = false;

  /** @param useCachedToken - false for a replay, whose cached token was just rejected. */
  constructor(plan: MethodPlan, callOptions: InterceptorOptions, useCachedToken: boolean) {
    this.#plan = plan;
    this.#callerCredentials = callOptions.credentials;
    // Per-call credentials of the caller's own must run first (they may set authorization), so
    // they keep the asynchronous path.
    const cached = useCachedToken && callOptions.credentials === undefined ? plan.tokens.getCachedToken?.(plan.getTokenOptions) : undefined;
    const header = cached === undefined ? undefined : bearerValueFor(cached);
    if (cached !== undefined && header !== undefined) {
      this.#cached = { accessToken: cached.accessToken, header };
      this.credentials = undefined;
      return;
    }
    this.credentials = credentials.createFromMetadataGenerator((params, callback) => {
      // Always a Metadata or an error object: `cb(null, undefined)` crashes the process (exp5b).
      this.#metadata(params).then(
        (metadata) => callback(null, metadata),
        (error: unknown) => callback(error instanceof Error ? error : tokenFailureStatus(error)),
      );
    });
  }

  /** The options for grpc-js's next call: with our per-call credentials, when there are any. */
  callOptions(callOptions: InterceptorOptions): InterceptorOptions {
    return this.credentials === undefined ? callOptions : { ...callOptions, credentials: this.credentials };
  }

  /** The call starts with `metadata`: note the caller's own header, or put the cached token in. */
  start(metadata: Metadata): void {
    this.callerAuthorization = hasAuthorization(metadata);
    if (this.#cached !== undefined && !this.callerAuthorization) {
      metadata.set('authorization', this.#cached.header);
      this.accessToken = this.#cached.accessToken;
    }
  }

  /**
   * The call ended (status received: its deadline passed, it was cancelled, or the server answered):
   * stop waiting for a token. grpc-js ends a call at its deadline but never tells the metadata
   * generator (exp7), so without this a caller could wait on a hung token server long after its
   * call is over. The token request itself goes on, shared with other calls and bounded by the
   * TokenManager's `requestTimeoutMs`.
   */
  end(): void {
    this.#ended = true;
    this.#waiting?.abort();
  }

  async #metadata(params: CallMetadataOptions): Promise<Metadata> {
    // Per-call credentials the caller passed in CallOptions run first, and their errors pass through
    // as grpc-js would have passed them.
    const metadata = this.#callerCredentials ? await this.#callerCredentials.generateMetadata(params) : new Metadata();
    if (this.callerAuthorization || hasAuthorization(metadata)) return metadata;
    const { accessToken, header } = await this.#bearerHeader();
    this.accessToken = accessToken;
    metadata.set('authorization', header);
    return metadata;
  }

  async #bearerHeader(): Promise<{ readonly accessToken: string; readonly header: string }> {
    if (this.#ended) throw callEndedStatus();
    // One controller per attempt: grpc-js may ask for metadata again when it picks another connection.
    const waiting = (this.#waiting ??= new AbortController());
    try {
      return await bearerHeader(this.#plan.tokens, { ...this.#plan.getTokenOptions, signal: waiting.signal });
    } catch (error) {
      // After the call ended grpc-js drops whatever the generator reports; the code is for the record.
      throw waiting.signal.aborted ? callEndedStatus() : tokenFailureStatus(error);
    }
  }
}

/**
 * A unary or server-streaming call that is made once more, with a fresh token, when the server answers
 * the first attempt with `UNAUTHENTICATED` before any response. Such calls send one request message,
 * kept here until the call ends.
 */
class ReplayingCall implements InterceptingCallInterface {
  readonly #plan: MethodPlan;
  readonly #callOptions: InterceptorOptions;
  readonly #nextCall: NextCall;
  #attempt: Attempt;
  #call: InterceptingCallInterface;
  #listener: Partial<InterceptingListener> | undefined;
  /** Request metadata as the caller passed it, for the second attempt. */
  #metadata: Metadata | undefined;
  #message: { readonly context: MessageContext; readonly message: unknown } | undefined;
  #halfClosed = false;
  #readRequested = false;
  /** Response metadata or a message arrived: the call is past the point of being made again. */
  #responded = false;
  #replayed = false;
  /** grpc-js's unary call reports "no message" as a `null` message just before the status. */
  #heldNullMessage = false;

  constructor(plan: MethodPlan, callOptions: InterceptorOptions, nextCall: NextCall) {
    this.#plan = plan;
    this.#callOptions = callOptions;
    this.#nextCall = nextCall;
    this.#attempt = new Attempt(plan, callOptions, true);
    this.#call = nextCall(this.#attempt.callOptions(callOptions));
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#listener = listener;
    // A call sent with the caller's own header is never made again, so it needs no copy. The copy is
    // taken before our header goes in, and now, because grpc-js's filters add headers to the metadata
    // object they are given.
    if (!hasAuthorization(metadata)) this.#metadata = metadata.clone();
    this.#attempt.start(metadata);
    this.#startAttempt(this.#call, metadata);
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    this.#message = { context, message };
    this.#call.sendMessageWithContext(context, message);
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  startRead(): void {
    this.#readRequested = true;
    this.#call.startRead();
  }

  halfClose(): void {
    this.#halfClosed = true;
    this.#call.halfClose();
  }

  cancelWithStatus(code: status, details: string): void {
    this.#call.cancelWithStatus(code, details);
  }

  getPeer(): string {
    return this.#call.getPeer();
  }

  getAuthContext(): ReturnType<InterceptingCallInterface['getAuthContext']> {
    return this.#call.getAuthContext();
  }

  #startAttempt(call: InterceptingCallInterface, metadata: Metadata): void {
    const attempt = this.#attempt;
    call.start(metadata, {
      onReceiveMetadata: (responseMetadata) => {
        this.#responded = true;
        this.#listener?.onReceiveMetadata?.(responseMetadata);
      },
      onReceiveMessage: (message: unknown) => {
        if (message === null && !this.#callOptions.method_definition.responseStream && !this.#responded) {
          this.#heldNullMessage = true;
          return;
        }
        this.#responded = true;
        this.#listener?.onReceiveMessage?.(message);
      },
      onReceiveStatus: (callStatus) => {
        attempt.end();
        const rejectedAccessToken = this.#rejectedAccessToken(callStatus, attempt);
        if (rejectedAccessToken !== undefined && this.#metadata !== undefined && this.#invalidate(rejectedAccessToken)) {
          this.#replay(this.#metadata);
          return;
        }
        if (this.#heldNullMessage) this.#listener?.onReceiveMessage?.(null);
        this.#listener?.onReceiveStatus?.(callStatus);
      },
    });
  }

  /**
   * The token the server rejected, when the call may be made again: `UNAUTHENTICATED` before any
   * response, on the first attempt, and a token of ours was sent (not the caller's; and not a failure
   * to get one, which ends the call `UNAUTHENTICATED` too).
   */
  #rejectedAccessToken(callStatus: StatusObject, attempt: Attempt): string | undefined {
    if (callStatus.code !== status.UNAUTHENTICATED || this.#responded || this.#replayed) return undefined;
    return attempt.accessToken;
  }

  /** False when a custom TokenProvider's `invalidate` throws: the call then ends with the server's status. */
  #invalidate(rejectedAccessToken: string): boolean {
    try {
      this.#plan.tokens.invalidate(rejectedAccessToken);
      return true;
    } catch {
      return false;
    }
  }

  #replay(metadata: Metadata): void {
    this.#replayed = true;
    this.#heldNullMessage = false;
    const attempt = (this.#attempt = new Attempt(this.#plan, this.#callOptions, false));
    const call = (this.#call = this.#nextCall(attempt.callOptions(this.#callOptions)));
    const replayMetadata = metadata.clone();
    attempt.start(replayMetadata);
    this.#startAttempt(call, replayMetadata);
    if (this.#message) {
      // Without the first attempt's write callback, which has already run.
      const { context, message } = this.#message;
      call.sendMessageWithContext(context.flags === undefined ? {} : { flags: context.flags }, message);
    }
    if (this.#halfClosed) call.halfClose();
    if (this.#readRequested) call.startRead();
  }
}

function hasAuthorization(metadata: Metadata): boolean {
  return metadata.get('authorization').length > 0;
}

function checkedScopes(scopes: unknown, methodPath: string): readonly string[] | undefined {
  if (scopes === undefined) return undefined;
  if (!Array.isArray(scopes)) {
    throw new TypeError(`createAuthInterceptor: scopesFor('${methodPath}') must return an array of scope strings or undefined`);
  }
  return normalizeScopes(scopes, `createAuthInterceptor: scopesFor('${methodPath}')`);
}

let insecureChannelWarned = false;

function warnInsecureChannelOnce(): void {
  if (insecureChannelWarned) return;
  insecureChannelWarned = true;
  process.emitWarning(
    'createAuthInterceptor: allowInsecureChannel is set and the channel credentials are insecure: OAuth2 access tokens ' +
      'will be sent in PLAINTEXT, readable and reusable by anyone on the network path. Use this for local development only.',
    { type: 'InsecureChannelWarning', code: 'GRPC_OAUTH2_INSECURE_CHANNEL' },
  );
}
