// Mutual TLS at the mock's endpoints (RFC 8705): the certificate a request's connection presented,
// whether it proves a client registered for tls_client_auth (§2.1) or self_signed_tls_client_auth
// (§2.2), and the thumbprint a token is bound to (§3).
import { X509Certificate, createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Clock } from './http.js';
import { OAuthFailure } from './http.js';
import type { MockClientCertificateAuth } from './mtls-types.js';
import type { MockClientAuthMethod } from './types.js';

/** The two mutual TLS client authentication methods, in the order discovery lists them. */
export const mtlsMethods = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;
export type MtlsMethod = (typeof mtlsMethods)[number];

/** The fields of RFC 8705 §2.1.2 that name a `tls_client_auth` client's certificate, one per client. */
export const subjectFields = ['tlsClientAuthSubjectDn', 'tlsClientAuthSanUri', 'tlsClientAuthSanDns'] as const;
type SubjectField = (typeof subjectFields)[number];
const subjectLabels: Record<SubjectField, string> = {
  tlsClientAuthSubjectDn: 'subject DN',
  tlsClientAuthSanUri: 'URI SAN',
  tlsClientAuthSanDns: 'DNS SAN',
};

/** What a client registered for mutual TLS, as the server keeps it. */
export interface MtlsRegistration {
  /** The `tls_client_auth` name its certificate must carry. */
  readonly subject?: { readonly field: SubjectField; readonly value: string };
  /** SHA-256 thumbprints of its `self_signed_tls_client_auth` certificates. */
  readonly selfSigned: ReadonlySet<string>;
  /** Whether its tokens are bound to the certificate it presented. */
  readonly bindTokens: boolean;
}

/** The certificate a request's connection presented. */
export interface PresentedCertificate {
  /** base64url SHA-256 of its DER: RFC 8705's `x5t#S256`. */
  readonly sha256: string;
  readonly certificate: X509Certificate;
  /** Why TLS did not verify it against `caCert` (OpenSSL's code); `undefined` when it did. */
  readonly caError: string | undefined;
}

/** The registration of `client`'s mutual TLS fields (already checked), and the methods they enable. */
export function mtlsRegistrationOf(client: MockClientCertificateAuth): {
  registration: MtlsRegistration;
  methods: MtlsMethod[];
} {
  const field = subjectFields.find((name) => client[name] !== undefined);
  const pems = client.selfSignedCertificates ?? [];
  const selfSigned = new Set((typeof pems === 'string' ? [pems] : pems).map((pem) => thumbprintOf(pem)));
  const registration: MtlsRegistration = {
    subject: field && { field, value: client[field]! },
    selfSigned,
    bindTokens: client.tlsClientCertificateBoundAccessTokens ?? true,
  };
  const methods: MtlsMethod[] = [];
  if (field !== undefined) methods.push('tls_client_auth');
  if (selfSigned.size > 0) methods.push('self_signed_tls_client_auth');
  return { registration, methods };
}

/** base64url SHA-256 of a certificate's DER (RFC 8705 `x5t#S256`): `ClientCertificate.sha256` and the presented certificate's. */
export function thumbprintOf(certificate: X509Certificate | string): string {
  const x509 = typeof certificate === 'string' ? new X509Certificate(certificate) : certificate;
  return createHash('sha256').update(x509.raw).digest('base64url');
}

/** The certificate each TLS connection presented, read (parsed and hashed) once per connection. */
const presentedBySocket = new WeakMap<TLSSocket, PresentedCertificate | undefined>();

/**
 * The client certificate `req`'s TLS connection presented; `undefined` over plain HTTP or without one.
 * Read at the connection's first request: the log, the client's authentication and the token's binding ask again.
 */
export function presentedCertificate(req: IncomingMessage): PresentedCertificate | undefined {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  if (presentedBySocket.has(socket)) return presentedBySocket.get(socket);
  const certificate = socket.getPeerX509Certificate();
  const caError = socket.authorized ? undefined : String(socket.authorizationError ?? 'not verified');
  const presented = certificate && { sha256: thumbprintOf(certificate), certificate, caError };
  presentedBySocket.set(socket, presented);
  return presented;
}

/** Whether `method` is one of the mutual TLS methods. */
export function isMtlsMethod(method: MockClientAuthMethod): method is MtlsMethod {
  return (mtlsMethods as readonly string[]).includes(method);
}

/**
 * The method by which `presented` proves the client registered as `registration` for `methods`, on
 * the server's clock; throws a 401 `invalid_client` {@link OAuthFailure} saying why otherwise.
 */
export function authenticateByCertificate(
  registration: MtlsRegistration,
  methods: readonly MtlsMethod[],
  presented: PresentedCertificate | undefined,
  clock: Clock,
): MtlsMethod {
  const refuse = (why: string): OAuthFailure => new OAuthFailure(401, 'invalid_client', why);
  if (presented === undefined)
    throw refuse('no client certificate was presented; mutual TLS clients use the mtls_endpoint_aliases');
  const invalid = validityProblem(presented.certificate, clock);
  if (invalid !== undefined) throw refuse(`the client certificate ${invalid}`);
  const { subject } = registration;
  if (methods.includes('tls_client_auth') && subject !== undefined) {
    if (presented.caError === undefined && namesOf(presented.certificate, subject.field).includes(subject.value))
      return 'tls_client_auth';
  }
  if (methods.includes('self_signed_tls_client_auth') && registration.selfSigned.has(presented.sha256))
    return 'self_signed_tls_client_auth';
  if (!methods.includes('tls_client_auth') || subject === undefined)
    throw refuse('the client certificate is not a certificate registered for this client');
  if (presented.caError !== undefined)
    throw refuse(`the client certificate is not signed by the trusted CA (${presented.caError})`);
  throw refuse(`the client certificate's ${subjectLabels[subject.field]} does not match the client's`);
}

/**
 * The thumbprint to bind a token to (RFC 8705 §3): that of the presented certificate when TLS verified
 * it against `caCert` or it is one of `registration`'s self-signed ones, it is valid on the server's
 * clock, and the client did not turn binding off; `undefined` otherwise.
 */
export function boundThumbprint(
  presented: PresentedCertificate | undefined,
  registration: MtlsRegistration | undefined,
  clock: Clock,
): string | undefined {
  if (presented === undefined || registration?.bindTokens === false) return undefined;
  const trusted = presented.caError === undefined || registration?.selfSigned.has(presented.sha256) === true;
  return trusted && validityProblem(presented.certificate, clock) === undefined ? presented.sha256 : undefined;
}

function validityProblem(certificate: X509Certificate, clock: Clock): string | undefined {
  const now = clock.now();
  if (Date.parse(certificate.validTo) <= now) return 'has expired';
  if (Date.parse(certificate.validFrom) > now) return 'is not valid yet';
  return undefined;
}

/** The names of `certificate` that `field` compares with: its RFC 4514 subject, or its SANs of one type. */
function namesOf(certificate: X509Certificate, field: SubjectField): string[] {
  // Node prints the subject one attribute per line in certificate order; RFC 4514 text reverses it.
  if (field === 'tlsClientAuthSubjectDn') return [certificate.subject.split('\n').reverse().join(',')];
  const type = field === 'tlsClientAuthSanUri' ? 'URI' : 'DNS';
  return subjectAltNames(certificate)
    .filter((name) => name.type === type)
    .map((name) => name.value);
}

/**
 * The SANs in Node's `subjectAltName` text: `DNS:a, URI:spiffe://b`, a value with a comma or quote
 * being a JSON string. Hand-written: Node has no structured accessor, and a few lines parse its text.
 */
function subjectAltNames(certificate: X509Certificate): { type: string; value: string }[] {
  const names: { type: string; value: string }[] = [];
  const pattern = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const [, type, raw] of (certificate.subjectAltName ?? '').matchAll(pattern))
    names.push({ type: type!, value: raw!.startsWith('"') ? (JSON.parse(raw!) as string) : raw! });
  return names;
}
