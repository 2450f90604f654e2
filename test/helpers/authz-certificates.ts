// The certificates of the A43 interop table, made at test time: a server certificate and the client
// certificates of grpc-go's and C++'s end-to-end tests, re-made with the same identities, and the
// precedence certificates of gRFC A41. The testing kit makes those it can (a SPIFFE ID, DNS SANs, a
// subject CN); openssl, with a second throwaway CA, makes the shapes it cannot: a subject with
// O/L/ST/C and no extensions at all, and two URI SANs. The server trusts both CAs.
import { readFile, writeFile } from 'node:fs/promises';
import { createTestCertificates, type ClientCertificate } from '../../src/testing/index.js';
import { ecKeyArgs, inTempDir, openssl } from '../../src/testing/openssl.js';

/** A client certificate and its key, as grpc-js's `credentials.createSsl` takes them. */
export interface ClientPair {
  readonly certBuffer: Buffer;
  readonly keyBuffer: Buffer;
}

/** Every client certificate of the table, by the name the cases use. */
export interface AuthzCertificates {
  readonly serverCert: string;
  readonly serverKey: string;
  /** Both CAs, PEM, one after the other: what the server verifies client certificates against. */
  readonly caCerts: string;
  /** The CA of the server certificate, for the clients. */
  readonly caCertBuffer: Buffer;
  readonly clients: Readonly<Record<ClientName, ClientPair>>;
}

/** The SPIFFE IDs and names of the upstream suites' certificates, and of the precedence cases. */
export const identities = {
  /** C++ `client-with-spiffe.pem`: URI SAN, subject `CN=testclient3`. */
  cppSpiffe: 'spiffe://foo.com/bar/baz',
  /** grpc-go `client_with_spiffe_cert.pem`: URI SAN. */
  goSpiffe: 'spiffe://foo.bar.com/client/workload/1',
  /** grpc-go `client1_cert.pem`: no extensions, this subject (RFC 2253 order). */
  goSubject: 'CN=test-client1,O=gRPC,L=SVL,ST=CA,C=US',
  /** grpc-go `multiple_uri_cert.pem`'s second URI SAN. */
  secondUri: 'https://bar.baz.com/client',
  legitSpiffe: 'spiffe://x/legit',
  otherSpiffe: 'spiffe://x/other',
  legitDns: 'svc.legit',
  otherDns: 'svc.other',
  legitSubject: 'CN=svc.legit',
} as const;

export type ClientName =
  | 'cppSpiffe'
  | 'goSpiffe'
  | 'goSubjectOnly'
  | 'twoUris'
  | 'uriLegit'
  | 'uriOtherDnsLegit'
  | 'uriOtherSubjectLegit'
  | 'dnsLegit'
  | 'dnsOtherSubjectLegit'
  | 'subjectLegit';

const pair = (certificate: ClientCertificate): ClientPair => ({
  certBuffer: certificate.certBuffer,
  keyBuffer: certificate.keyBuffer,
});

/** Makes the server certificate and every client certificate of the table (about a second of openssl). */
export async function createAuthzCertificates(): Promise<AuthzCertificates> {
  const kit = await createTestCertificates();
  const issue = (options: Parameters<typeof kit.issueClientCertificate>[0]) =>
    kit.issueClientCertificate(options).then(pair);
  const [own, cppSpiffe, goSpiffe, uriLegit, uriOtherDnsLegit, uriOtherSubjectLegit, dnsLegit, dnsOther, subject] =
    await Promise.all([
      ownCaCertificates(),
      issue({ spiffeId: identities.cppSpiffe, commonName: 'testclient3' }),
      issue({ spiffeId: identities.goSpiffe, commonName: 'test-client1' }),
      issue({ spiffeId: identities.legitSpiffe, commonName: 'svc.legit' }),
      issue({ spiffeId: identities.otherSpiffe, dnsNames: [identities.legitDns], commonName: 'svc.legit' }),
      issue({ spiffeId: identities.otherSpiffe, commonName: 'svc.legit' }),
      issue({ dnsNames: [identities.legitDns], commonName: 'svc.other' }),
      issue({ dnsNames: [identities.otherDns], commonName: 'svc.legit' }),
      issue({ commonName: 'svc.legit' }),
    ]);
  return {
    serverCert: kit.serverCert,
    serverKey: kit.serverKey,
    caCerts: `${kit.caCert}${own.caCert}`,
    caCertBuffer: kit.caCertBuffer,
    clients: {
      cppSpiffe,
      goSpiffe,
      goSubjectOnly: own.subjectOnly,
      twoUris: own.twoUris,
      uriLegit,
      uriOtherDnsLegit,
      uriOtherSubjectLegit,
      dnsLegit,
      dnsOtherSubjectLegit: dnsOther,
      subjectLegit: subject,
    },
  };
}

/** A throwaway CA of our own, and the two certificates the testing kit cannot make, signed by it. */
async function ownCaCertificates(): Promise<{ caCert: string; subjectOnly: ClientPair; twoUris: ClientPair }> {
  const where = 'authz interop certificates';
  return inTempDir(async (path) => {
    const caArgs = ['-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '2', '-subj', '/CN=authz interop CA'];
    const caExtensions = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign'];
    await openssl(['req', '-x509', ...ecKeyArgs, ...caArgs, ...caExtensions.flatMap((e) => ['-addext', e])], where);
    await writeFile(
      path('two-uris.ext'),
      `extendedKeyUsage=clientAuth\nsubjectAltName=URI:${identities.goSpiffe},URI:${identities.secondUri}\n`,
    );
    const issue = async (name: string, subject: string, extfile?: string): Promise<ClientPair> => {
      const csr = path(`${name}.csr`);
      await openssl(
        ['req', '-new', ...ecKeyArgs, '-keyout', path(`${name}.key`), '-out', csr, '-subj', subject],
        where,
      );
      const signing = ['x509', '-req', '-in', csr, '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-days', '2'];
      const extensions = extfile === undefined ? [] : ['-extfile', path(extfile)];
      await openssl([...signing, '-CAcreateserial', '-out', path(`${name}.pem`), ...extensions], where);
      const [certBuffer, keyBuffer] = await Promise.all([readFile(path(`${name}.pem`)), readFile(path(`${name}.key`))]);
      return { certBuffer, keyBuffer };
    };
    // One after the other: both use the CA's serial file.
    const subjectOnly = await issue('subject-only', '/C=US/ST=CA/L=SVL/O=gRPC/CN=test-client1');
    const twoUris = await issue('two-uris', '/C=US/ST=CA/L=SVL/O=gRPC/CN=test-client1', 'two-uris.ext');
    return { caCert: await readFile(path('ca.pem'), 'utf8'), subjectOnly, twoUris };
  });
}
