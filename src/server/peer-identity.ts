// The caller's identity from its verified TLS client certificate: SPIFFE ID, SANs, subject and the
// RFC 8705 thumbprint, read once per certificate object.
import { X509Certificate, createHash } from 'node:crypto';
import type { ServerInterceptingCallInterface } from '@grpc/grpc-js';

/** What grpc-js's `getAuthContext()` answers (its type is not exported by name). */
export type AuthContext = ReturnType<ServerInterceptingCallInterface['getAuthContext']>;

/**
 * Who is calling, from the client certificate that the server's TLS verified against its CA.
 * Frozen; the arrays too.
 */
export interface PeerIdentity {
  /**
   * The SPIFFE ID (`spiffe://trust-domain/path`) of an X.509-SVID: the certificate's URI SAN when it
   * has exactly one and it is a `spiffe://` URI (the SPIFFE X.509-SVID rule); else `undefined`.
   */
  readonly spiffeId: string | undefined;
  /** Every URI subject alternative name, in certificate order. */
  readonly uriSans: readonly string[];
  /** Every DNS subject alternative name, in certificate order. */
  readonly dnsSans: readonly string[];
  /** The subject as an RFC 4514 string, most specific attribute first (`CN=orders,O=Example,C=US`). */
  readonly subject: string;
  /**
   * base64url SHA-256 of the certificate's DER: RFC 8705's `x5t#S256`, what a token bound to this
   * certificate carries in `cnf`.
   */
  readonly certificateSha256: string;
}

/** A call as grpc-js gives it to handlers and interceptors: anything with `getAuthContext()`. */
export interface CallWithAuthContext {
  /** grpc-js's auth context of the call's connection. */
  getAuthContext(): AuthContext | undefined;
}

/**
 * Identities by the peer-certificate object they were read from. Server credentials made by
 * `createMtlsServerCredentials` hand every call of a connection the same object, so a connection's
 * certificate is parsed and hashed once; with other credentials grpc-js builds a new object per call.
 */
const identities = new WeakMap<object, PeerIdentity>();

/**
 * The identity of the client certificate of `call`'s connection, verified by the server's TLS
 * against its CA; `undefined` on a plaintext connection, on TLS without a client certificate (or
 * with one the server did not verify), and for anything that is not a grpc-js call. Works in every
 * handler kind and in server interceptors. With `createMtlsServerCredentials` the certificate is
 * read once per connection; with grpc-js's own `ServerCredentials.createSsl(ca, pairs, true)` once
 * per call.
 *
 * @example
 * ```ts
 * server.addService(OrdersService, {
 *   GetOrder(call, callback) {
 *     const peer = getPeerIdentity(call);
 *     callback(null, { id: call.request.id, caller: peer?.spiffeId ?? 'unknown' });
 *   },
 * });
 * ```
 */
export function getPeerIdentity(call: CallWithAuthContext): PeerIdentity | undefined {
  const getAuthContext = (call as Partial<CallWithAuthContext> | null | undefined)?.getAuthContext;
  if (typeof getAuthContext !== 'function') return undefined;
  return identityOf(getAuthContext.call(call));
}

/** The identity of the verified certificate in `context`, else `undefined`. */
export function identityOf(context: AuthContext | undefined): PeerIdentity | undefined {
  const certificate = context?.sslPeerCertificate;
  if (typeof certificate !== 'object' || certificate === null) return undefined;
  const known = identities.get(certificate);
  if (known !== undefined) return known;
  const raw: unknown = certificate.raw;
  if (!Buffer.isBuffer(raw) || raw.length === 0) return undefined;
  const identity = readIdentity(raw);
  if (identity !== undefined) identities.set(certificate, identity);
  return identity;
}

function readIdentity(raw: Buffer): PeerIdentity | undefined {
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(raw);
  } catch {
    return undefined; // not what a TLS handshake verified: nothing to say about the caller
  }
  const sans = alternativeNames(parsed.subjectAltName ?? '');
  const uriSans = Object.freeze(sans.filter((san) => san.type === 'URI').map((san) => san.value));
  const dnsSans = Object.freeze(sans.filter((san) => san.type === 'DNS').map((san) => san.value));
  const [onlyUri] = uriSans;
  return Object.freeze({
    spiffeId: uriSans.length === 1 && onlyUri!.startsWith('spiffe://') ? onlyUri : undefined,
    uriSans,
    dnsSans,
    subject: rfc4514Subject(parsed.subject),
    certificateSha256: createHash('sha256').update(raw).digest('base64url'),
  });
}

/**
 * Node prints the SANs as `DNS:a, URI:b, IP Address:c`, and since Node 17.3.1 puts a value that has
 * a comma, quote or other special character in JSON quotes; both forms are read here, as Node has no
 * structured accessor for them.
 */
const alternativeName = /\s*([A-Za-z][A-Za-z ]*):("(?:[^"\\]|\\.)*"|[^,]*)(?:,|$)/y;

function alternativeNames(text: string): { type: string; value: string }[] {
  const names: { type: string; value: string }[] = [];
  alternativeName.lastIndex = 0;
  while (alternativeName.lastIndex < text.length) {
    const match = alternativeName.exec(text);
    if (match === null) break;
    const [, type, written] = match as unknown as [string, string, string];
    names.push({ type, value: written.startsWith('"') ? (JSON.parse(written) as string) : written });
  }
  return names;
}

/**
 * Node's subject is one attribute per line, least specific first, with RFC 4514's escapes already
 * applied to each value; RFC 4514 writes them most specific first, separated by commas.
 */
function rfc4514Subject(multiline: string): string {
  return multiline.split('\n').filter(Boolean).reverse().join(',');
}
