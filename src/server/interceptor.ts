// createServerAuthInterceptor: the grpc-js server interceptor that verifies each call's bearer
// token and applies the method policy when the request metadata arrives.
import {
  ServerInterceptingCall,
  type Metadata,
  type Responder,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerListener,
} from '@grpc/grpc-js';
import type { JWTPayload } from 'jose';
import type { TimerHandle } from '../common/clock.js';
import { report } from './audit.js';
import { Authenticator } from './authenticator.js';
import { attachClaims } from './claims.js';
import { decide, type CallToDecide, type Decision, type DecisionParts } from './decision.js';
import { streamExpired, undecided } from './denial.js';
import { atWallTime } from './expiry-timer.js';
import { grpcStatusOf } from './grpc-status.js';
import { resolveOptions, type AuthorizeRequest, type ServerAuthOptions } from './options.js';
import { getPeerIdentity, type PeerIdentity } from './peer-identity.js';
import { Policy } from './policy.js';

/**
 * The interceptor {@link createServerAuthInterceptor} returns: a grpc-js `ServerInterceptor`, with
 * `ready()` to fetch every issuer's keys before the server takes calls.
 */
export interface ServerAuthInterceptor extends ServerInterceptor {
  /**
   * Fetches every issuer's discovery document and signing keys (and readies every introspection) now,
   * so that the first calls do not wait for them and a server whose IdP is down learns it at start-up.
   * Optional: without it, the first call that needs them fetches them. Resolves once all are ready;
   * rejects with an Error naming each issuer that failed and why (never a secret). May be called again.
   */
  ready(): Promise<void>;
}

/** The policy behind each interceptor this module made, for `checkPolicy`. */
const policies = new WeakMap<ServerInterceptor, Policy>();

/** The policy of an interceptor made by {@link createServerAuthInterceptor}, else `undefined`. @internal */
export function policyOf(interceptor: unknown): Policy | undefined {
  return typeof interceptor === 'function' ? policies.get(interceptor as ServerInterceptor) : undefined;
}

/**
 * A grpc-js (1.10+) server interceptor that authenticates and authorizes every call, for
 * `new grpc.Server({ interceptors: [auth] })`.
 *
 * When a call's metadata arrives, before any request message is read: a public method passes;
 * otherwise the one `authorization: Bearer <JWT>` value must verify with jose (signature by a key
 * of the issuer's JWKS, an accepted algorithm, `iss`, `aud`, `exp`, `nbf`, optionally `typ`), the
 * token's scopes must meet the method's entry in `methods`, and `authorize` (if given) must say
 * `true`. A DPoP-bound token (`cnf.jkt`, RFC 9449) comes as `authorization: DPoP <JWT>` with a valid
 * `dpop` proof for the call (see the `dpop` option). A refused call ends at once, its handler never runs:
 * - `UNAUTHENTICATED`: no, malformed, expired or badly signed token;
 * - `PERMISSION_DENIED`: missing scopes (named in the details), a method the policy does not name,
 *   or `authorize` said no;
 * - `UNAVAILABLE`: the signing keys could not be fetched;
 * - `INTERNAL`: `authorize` threw.
 * The details are one short sentence, never the token; the trailer `grpc-oauth2-reason` carries
 * the reason code. A streaming call that outlives its token ends `UNAUTHENTICATED` at its `exp`
 * (unless `endStreamsAtExpiry: false`). Handlers read the verified claims with `getAuthClaims(call)`.
 *
 * @throws AuthConfigError (a TypeError) for a bad option or policy, naming it.
 * @example
 * ```ts
 * const auth = createServerAuthInterceptor({
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://orders.example.com',
 *   methods: { '/orders.v1.Orders/GetOrder': ['orders.read'], '/orders.v1.Orders/*': ['orders.admin'] },
 * });
 * const server = new grpc.Server({ interceptors: [auth] });
 * ```
 */
export function createServerAuthInterceptor(options: ServerAuthOptions): ServerAuthInterceptor {
  const settings = resolveOptions<AuthorizeRequest>(options, 'createServerAuthInterceptor');
  const policy = new Policy(options.methods, options.publicMethods);
  const authenticator = new Authenticator(settings);
  const parts: DecisionParts<AuthorizeRequest> = { ...settings, policy, authenticator };

  const interceptor: ServerInterceptor = (descriptor, nextCall) => {
    const method = descriptor.path;
    // A unary call needs no expiry timer, so none of the hooks that clear it: the cheapest call.
    const endsAtExpiry = settings.endStreamsAtExpiry && (descriptor.requestStream || descriptor.responseStream);
    let expiry: TimerHandle | undefined;
    let ended = false;
    const end = (): void => {
      ended = true;
      expiry?.clear();
    };

    const admit = (metadata: Metadata, next: (metadata: Metadata) => void): void => {
      const asked = new GrpcCallToDecide(method, metadata, nextCall);
      // Only for the audit record: no closure per call without an onDecision hook.
      const peerOf = settings.onDecision && ((): PeerIdentity | undefined => asked.peer());
      const settle = (decision: Decision): void => {
        report(settings.onDecision, method, decision, peerOf);
        if (decision.denial !== undefined) return call.sendStatus(grpcStatusOf(decision.denial));
        if (decision.claims !== undefined) {
          attachClaims(metadata, decision.claims);
          if (endsAtExpiry && !ended) expiry = endAtExpiry(decision.claims, peerOf);
        }
        next(metadata);
      };
      const decision = decide(parts, asked);
      if (decision instanceof Promise) decision.then(settle, () => settle(internalFailure));
      else settle(decision);
    };

    const endAtExpiry = (
      claims: Readonly<JWTPayload>,
      peerOf: (() => PeerIdentity | undefined) | undefined,
    ): TimerHandle | undefined => {
      const validUntilMs = authenticator.validUntilMs(claims);
      // An introspected token whose answer has no exp: nothing to end the stream at.
      if (validUntilMs === Infinity) return undefined;
      return atWallTime(settings.clock, validUntilMs, () => {
        // The stream's claims, so that the audit record names whose stream ended.
        const decision: Decision = { denial: streamExpired, claims, isPublic: false };
        report(settings.onDecision, method, decision, peerOf);
        call.sendStatus(grpcStatusOf(streamExpired));
      });
    };

    // Plain objects rather than grpc-js's builders, which cost a builder and a copy per call.
    const listener: ServerListener = endsAtExpiry
      ? { onReceiveMetadata: admit, onCancel: end }
      : { onReceiveMetadata: admit };
    const responder: Responder = endsAtExpiry
      ? {
          start: (next) => next(listener),
          sendStatus: (status, next) => {
            end();
            next(status);
          },
        }
      : { start: (next) => next(listener) };
    const call = new ServerInterceptingCall(nextCall, responder);
    return call;
  };
  policies.set(interceptor, policy);
  return Object.assign(interceptor, { ready: () => authenticator.ready() });
}

/**
 * A grpc-js call as {@link decide} asks about it: one object per call, no closures. The caller's
 * identity is read at most once per call, for the bound-token check, `authorize` and the audit record.
 */
class GrpcCallToDecide implements CallToDecide<AuthorizeRequest> {
  #peer: PeerIdentity | undefined | null = null;

  constructor(
    readonly method: string,
    readonly metadata: Metadata,
    readonly call: ServerInterceptingCallInterface,
  ) {}

  authorization(): readonly unknown[] {
    return this.metadata.get('authorization');
  }

  /** The identity of the call's client certificate: read on first use, then kept. */
  peer(): PeerIdentity | undefined {
    if (this.#peer === null) this.#peer = getPeerIdentity(this.call);
    return this.#peer;
  }

  peerCertificateSha256(): string | undefined {
    return this.peer()?.certificateSha256;
  }

  dpopProofs(): readonly unknown[] {
    return this.metadata.get('dpop');
  }

  /** The `:authority` pseudo-header grpc-js read off the HTTP/2 stream (docs/grpc-js-facts.md), never a metadata value. */
  authority(): string | undefined {
    return this.call.getHost();
  }

  authorizeRequest(claims: Readonly<JWTPayload>): AuthorizeRequest {
    return { claims, method: this.method, metadata: this.metadata, peer: this.peer() };
  }
}

/** Only a bug of this package reaches it: decide() never rejects. */
const internalFailure: Decision = { denial: undecided, claims: undefined, isPublic: false };
