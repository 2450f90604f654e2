import {
  InterceptingCall,
  status,
  type InterceptingListener,
  type InterceptorOptions,
  type Metadata,
  type NextCall,
  type StatusObject,
} from '@grpc/grpc-js';
import { newTokenMayHelp, reasonOf, reasonTrailer } from '../calls/denial-trailers.js';
import { cachedToken, type MethodPlan } from '../calls/method-plan.js';
import { Attempt } from './attempt.js';
import { recordCallEnd } from './diagnostics/call-record.js';

// grpc-js does not export these names; derive them from what it does export.
type InterceptingCallInterface = ReturnType<NextCall>;
type MessageContext = Parameters<InterceptingCallInterface['sendMessageWithContext']>[0];

/**
 * One call through the interceptor, of any call type. When the server ends it `UNAUTHENTICATED` for a
 * reason a new token may fix, the token it carried is invalidated; a replayable call (unary or
 * server-streaming: one request message) rejected before any response is made once more with a fresh
 * token, and only once.
 *
 * Nothing is done for the replay until the server actually answers `UNAUTHENTICATED`: the call keeps
 * references to the caller's metadata and message (which neither it nor grpc-js changes: docs/grpc-js-facts.md,
 * "The caller's Metadata object is not grpc-js's to change") instead of copies, and it
 * is its own listener, so a call costs one object here besides its {@link Attempt}. It extends
 * grpc-js's `InterceptingCall` because that is the type an interceptor returns; every method is
 * overridden, since a replay swaps the call underneath.
 *
 * @internal
 * @example
 * ```ts
 * const interceptor: Interceptor = (callOptions, nextCall) => new ReplayingCall(plan, callOptions, nextCall);
 * ```
 */
export class ReplayingCall extends InterceptingCall {
  readonly #plan: MethodPlan;
  readonly #callOptions: InterceptorOptions;
  readonly #nextCall: NextCall;
  #attempt: Attempt;
  #call: InterceptingCallInterface;
  #listener: Partial<InterceptingListener> | undefined;
  /** Kept for a replay only: the caller's metadata as passed, and its one request message. */
  #callerMetadata: Metadata | undefined;
  #messageContext: MessageContext | undefined;
  #message: unknown;
  #halfClosed = false;
  #readRequested = false;
  /** Response metadata or a message arrived: the call is past the point of being made again. */
  #responded = false;
  #replayed = false;
  /** A unary call reports "no message" as a `null` message just before the status (docs/grpc-js-facts.md). */
  #heldNullMessage = false;

  constructor(plan: MethodPlan, callOptions: InterceptorOptions, nextCall: NextCall) {
    const attempt = new Attempt(plan, callOptions);
    const call = nextCall(attempt.callOptions(callOptions));
    super(call);
    this.#plan = plan;
    this.#callOptions = callOptions;
    this.#nextCall = nextCall;
    this.#attempt = attempt;
    this.#call = call;
  }

  override start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#listener = listener;
    if (this.#plan.replayable) this.#callerMetadata = metadata;
    this.#call.start(this.#attempt.metadataToSend(metadata), this);
  }

  override sendMessageWithContext(context: MessageContext, message: unknown): void {
    if (this.#plan.replayable) {
      this.#messageContext = context;
      this.#message = message;
    }
    this.#call.sendMessageWithContext(context, message);
  }

  override startRead(): void {
    this.#readRequested = true;
    this.#call.startRead();
  }

  override halfClose(): void {
    this.#halfClosed = true;
    this.#call.halfClose();
  }

  override cancelWithStatus(code: status, details: string): void {
    this.#call.cancelWithStatus(code, details);
  }

  override getPeer(): string {
    return this.#call.getPeer();
  }

  override getAuthContext(): ReturnType<InterceptingCallInterface['getAuthContext']> {
    return this.#call.getAuthContext();
  }

  /** Listener of the current attempt. */
  onReceiveMetadata(metadata: Metadata): void {
    this.#responded = true;
    this.#listener?.onReceiveMetadata?.(metadata);
  }

  /** Listener of the current attempt. */
  onReceiveMessage(message: unknown): void {
    if (message === null && !this.#callOptions.method_definition.responseStream && !this.#responded) {
      this.#heldNullMessage = true;
      return;
    }
    this.#responded = true;
    this.#listener?.onReceiveMessage?.(message);
  }

  /** Listener of the current attempt. */
  onReceiveStatus(callStatus: StatusObject): void {
    const attempt = this.#attempt;
    attempt.end();
    if (
      callStatus.code === status.UNAUTHENTICATED &&
      attempt.accessToken !== undefined &&
      newTokenMayHelp(reasonOf(callStatus.metadata?.get(reasonTrailer)[0])) &&
      this.#replayedAfterRejecting(attempt.accessToken)
    )
      return;
    if (callStatus.code !== status.OK)
      recordCallEnd(callStatus, this.#plan, attempt, this.#replayed, this.#callOptions.method_definition.path);
    if (this.#heldNullMessage) this.#listener?.onReceiveMessage?.(null);
    this.#listener?.onReceiveStatus?.(callStatus);
  }

  /**
   * The server rejected a token of ours (not the caller's: then `accessToken` is unset; and not a
   * failure to get one, which also ends a call `UNAUTHENTICATED`) for a reason a new token may fix (its
   * `grpc-oauth2-reason` trailer says so, or it sent none). Invalidates it, on every call type, and makes
   * the call again when that may help; true when it did.
   */
  #replayedAfterRejecting(accessToken: string): boolean {
    let kept: boolean;
    try {
      // `false`: the provider kept the token (a forced refresh happened moments ago).
      kept = this.#plan.tokens.invalidate(accessToken) === false;
    } catch {
      return false; // a custom provider's bug: the call ends with the server's status
    }
    if (kept || !this.#plan.replayable || this.#responded || this.#replayed || this.#callerMetadata === undefined)
      return false;
    // The TokenManager honours a forced refresh only so often per scope set; while it still serves the
    // rejected token, sending the call again could only be rejected again.
    if (cachedToken(this.#plan)?.accessToken === accessToken) return false;
    this.#replay(this.#callerMetadata, accessToken);
    return true;
  }

  #replay(metadata: Metadata, rejectedAccessToken: string): void {
    this.#replayed = true;
    this.#heldNullMessage = false;
    const attempt = (this.#attempt = new Attempt(this.#plan, this.#callOptions, rejectedAccessToken));
    const call = (this.#call = this.#nextCall(attempt.callOptions(this.#callOptions)));
    call.start(attempt.metadataToSend(metadata), this);
    if (this.#messageContext !== undefined) {
      // Without the first attempt's write callback, which has already run.
      const { flags } = this.#messageContext;
      call.sendMessageWithContext(flags === undefined ? {} : { flags }, this.#message);
    }
    if (this.#halfClosed) call.halfClose();
    if (this.#readRequested) call.startRead();
  }
}
