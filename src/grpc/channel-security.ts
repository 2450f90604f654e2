// Everything the three entry points check about where tokens will go, written once: the channel
// credentials (insecure ones refused, unverified TLS warned about), and channel credentials that
// already carry call credentials.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { warnOnce } from '../common/warn-once.js';
import { InsecureChannelError } from '../calls/errors.js';
import { AuthConfigError } from '../common/config-error.js';
import { debugLine } from '../token/lifecycle/debug-log.js';

/** How an entry point treats insecure channel credentials. */
export interface ChannelPolicy {
  /** Names the entry point in messages and warnings. */
  readonly caller: string;
  /**
   * The user's `allowInsecureChannel`; `undefined` where the entry point has no such option
   * (`createChannelCredentials`: grpc-js's `compose()` refuses insecure credentials anyway).
   */
  readonly allowInsecureChannel: boolean | undefined;
}

/**
 * Checks the channel credentials tokens will travel on, before anything is fetched or sent:
 * not channel credentials at all → `AuthConfigError`; insecure → {@link InsecureChannelError}, or one
 * warning per process under `allowInsecureChannel: true`; TLS that does not verify the server → one
 * warning per process.
 *
 * This is the only security gate there is: grpc-js sends per-call credentials over plaintext, and its
 * metadata generator cannot tell (docs/grpc-js-facts.md, "Per-call credentials go over plaintext").
 *
 * @internal
 * @example
 * ```ts
 * checkChannelSecurity(options.channelCredentials, { caller: 'createAuthInterceptor', allowInsecureChannel: false });
 * ```
 */
export function checkChannelSecurity(channelCredentials: unknown, policy: ChannelPolicy): ChannelCredentials {
  const { caller, allowInsecureChannel } = policy;
  const candidate = channelCredentials as Partial<ChannelCredentials> | null | undefined;
  // Duck typing rather than instanceof: the application's grpc-js and ours may resolve to different
  // copies. `_isSecure()` is declared public on ChannelCredentials in every grpc-js 1.x.
  if (typeof candidate?._isSecure !== 'function' || typeof candidate.compose !== 'function') {
    throw new AuthConfigError(
      `${caller}: channelCredentials must be grpc-js ChannelCredentials, e.g. grpc.credentials.createSsl(caCertificate)`,
    );
  }
  const credentials = candidate as ChannelCredentials;
  if (credentials._isSecure() !== true) {
    if (allowInsecureChannel !== true) {
      const error = new InsecureChannelError(refusal(caller, allowInsecureChannel !== undefined));
      debugLine(`refused: ${error.message}`);
      throw error;
    }
    warnOnce(
      'GRPC_OAUTH2_INSECURE_CHANNEL',
      'InsecureChannelWarning',
      `${caller}: allowInsecureChannel is set and the channel credentials are insecure: OAuth2 access tokens will be sent in ` +
        'PLAINTEXT, readable and reusable by anyone on the network path. Use this for local development only.',
    );
    return credentials;
  }
  warnIfServerUnverified(credentials, caller);
  return credentials;
}

function refusal(caller: string, canAllow: boolean): string {
  return (
    `${caller}: refusing to attach OAuth2 access tokens to insecure (plaintext) channel credentials: anyone on the network ` +
    'path could read the token and reuse it. Use TLS channel credentials, e.g. grpc.credentials.createSsl(caCertificate)' +
    (canAllow
      ? ', and pass the object the client uses as channelCredentials; for local development only, set allowInsecureChannel: true.'
      : '.')
  );
}

/**
 * Whether channel credentials were composed with call credentials of any origin (ours from
 * `createChannelCredentials`, `combineChannelCredentials(tls, ...)`, another library's): such a channel
 * already attaches a header, likely `authorization`. grpc-js keeps the composed call credentials in a
 * `callCredentials` field and uses an `EmptyCallCredentials` when there are none; neither is public
 * API, so anything unexpected reads as "not composed".
 *
 * @internal
 * @example
 * ```ts
 * hasComposedCallCredentials(createChannelCredentials(grpc.credentials.createSsl(), tokens)); // true
 * ```
 */
export function hasComposedCallCredentials(channelCredentials: ChannelCredentials): boolean {
  const callCredentials = (channelCredentials as unknown as { callCredentials?: { constructor?: { name?: unknown } } })
    .callCredentials;
  return (
    typeof callCredentials === 'object' &&
    callCredentials !== null &&
    callCredentials.constructor?.name !== 'EmptyCallCredentials'
  );
}

/** What grpc-js keeps of `createSsl(..., verifyOptions)`; not public API, so every field is optional. */
interface VisibleVerifyOptions {
  readonly rejectUnauthorized?: unknown;
  readonly checkServerIdentity?: unknown;
}

/**
 * Warns when TLS credentials do not verify the server, where grpc-js lets us see it: `createSsl` and
 * `createFromSecureContext` keep their `verifyOptions` on the credentials (composed credentials keep
 * the inner ones as `channelCredentials`). A token sent to a server nobody verified goes to whoever
 * answers.
 */
function warnIfServerUnverified(channelCredentials: ChannelCredentials, caller: string): void {
  const verifyOptions = verifyOptionsOf(channelCredentials);
  if (verifyOptions?.rejectUnauthorized === false) {
    warnOnce(
      'GRPC_OAUTH2_TLS_REJECT_UNAUTHORIZED',
      'UnverifiedTlsWarning',
      `${caller}: the TLS channel credentials were made with rejectUnauthorized: false, so the server's certificate is not ` +
        'verified: OAuth2 access tokens go to whichever server answers. Trust the server through its CA certificate instead.',
    );
  }
  if (acceptsAnyServer(verifyOptions?.checkServerIdentity)) {
    warnOnce(
      'GRPC_OAUTH2_TLS_ANY_SERVER_IDENTITY',
      'UnverifiedTlsWarning',
      `${caller}: the TLS channel credentials' checkServerIdentity accepts any server, so the server's name is not ` +
        'verified: OAuth2 access tokens go to any server holding a certificate from a trusted CA.',
    );
  }
}

function verifyOptionsOf(channelCredentials: unknown): VisibleVerifyOptions | undefined {
  let credentials = channelCredentials as { verifyOptions?: unknown; channelCredentials?: unknown } | undefined;
  for (let depth = 0; depth < 4 && typeof credentials === 'object' && credentials !== null; depth++) {
    if (typeof credentials.verifyOptions === 'object' && credentials.verifyOptions !== null)
      return credentials.verifyOptions;
    credentials = credentials.channelCredentials as typeof credentials;
  }
  return undefined;
}

/** Name and certificate no real check accepts together: a check that passes them passes anything. */
const unrelatedHost = 'host.grpc-oauth2-credentials.invalid';
const unrelatedCertificate = {
  subject: { CN: 'other.grpc-oauth2-credentials.invalid' },
  subjectaltname: 'DNS:other.grpc-oauth2-credentials.invalid',
};

function acceptsAnyServer(checkServerIdentity: unknown): boolean {
  if (typeof checkServerIdentity !== 'function') return false;
  try {
    return (
      (checkServerIdentity as (host: string, certificate: unknown) => unknown)(unrelatedHost, unrelatedCertificate) ===
      undefined
    );
  } catch {
    return false; // it rejected, by throwing
  }
}
