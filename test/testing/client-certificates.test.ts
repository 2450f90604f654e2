import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { inspect } from 'node:util';
import { before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSelfSignedClientCertificate,
  createTestCertificates,
  writeCertificateFiles,
  type ClientCertificateOptions,
  type TestCertificates,
} from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';
import { askPeer, startPeerEcho } from '../helpers/peer-echo.js';

describe('TestCertificates.issueClientCertificate', () => {
  let certs: TestCertificates;
  before(async () => {
    certs = await createTestCertificates();
  });

  function mtlsServer(requireClientCertificate: boolean): grpc.ServerCredentials {
    return grpc.ServerCredentials.createSsl(
      certs.caCertBuffer,
      [{ cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer }],
      requireClientCertificate,
    );
  }

  test('issues a clientAuth certificate the CA signed, with the SPIFFE ID as a URI SAN and the DNS names', async () => {
    const client = await certs.issueClientCertificate({
      spiffeId: 'spiffe://example.org/ns/orders/sa/api',
      dnsNames: ['orders.internal', 'api.orders.internal'],
      commonName: 'orders api',
    });
    const x509 = new X509Certificate(client.cert);
    const ca = new X509Certificate(certs.caCert);
    assert.equal(x509.ca, false);
    assert.equal(x509.checkIssued(ca), true);
    assert.equal(x509.verify(ca.publicKey), true);
    assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'extendedKeyUsage clientAuth');
    assert.equal(
      x509.subjectAltName,
      'URI:spiffe://example.org/ns/orders/sa/api, DNS:orders.internal, DNS:api.orders.internal',
    );
    assert.match(x509.subject, /CN=orders api/);
    assert.equal(x509.checkPrivateKey(createPrivateKey(client.key)), true);
    assert.equal(client.certBuffer.toString(), client.cert);
    assert.equal(client.keyBuffer.toString(), client.key);
    assert.equal(client.sha256, createHash('sha256').update(x509.raw).digest('base64url'));
    assert.match(client.sha256, /^[\w-]{43}$/, 'base64url without padding');
  });

  test('makes a new key pair on every call, and follows validityDays', async () => {
    const [a, b] = await Promise.all([
      certs.issueClientCertificate(),
      certs.issueClientCertificate({ validityDays: 5 }),
    ]);
    assert.notEqual(a.key, b.key);
    assert.notEqual(a.sha256, b.sha256);
    const x509 = new X509Certificate(b.cert);
    assert.equal(Date.parse(x509.validTo) - Date.parse(x509.validFrom), 5 * 86_400_000);
    assert.equal(new X509Certificate(a.cert).subjectAltName, undefined, 'no SAN unless asked');
  });

  test('never exposes the CA private key', () => {
    const keysIn = (text: string): number => text.split('PRIVATE KEY-----\\n').length - 1;
    assert.equal(keysIn(inspect(certs, { depth: 5, showHidden: true })), 2, 'the server key only (BEGIN and END)');
    assert.equal(keysIn(JSON.stringify(certs)), 2, 'the server key only (BEGIN and END)');
    assert.deepEqual(Object.keys(certs).sort(), [
      'caCert',
      'caCertBuffer',
      'issueClientCertificate',
      'serverCert',
      'serverCertBuffer',
      'serverKey',
      'serverKeyBuffer',
    ]);
  });

  test('a grpc-js server requiring client certificates accepts the issued one and refuses a client without', async (t) => {
    const client = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/client' });
    const port = await startPeerEcho(t, mtlsServer(true));

    const seen = await askPeer(
      t,
      port,
      grpc.credentials.createSsl(certs.caCertBuffer, client.keyBuffer, client.certBuffer),
    );
    assert.equal(seen.subjectaltname, 'URI:spiffe://example.org/client');
    assert.equal(seen.rawSha256, client.sha256);

    await assert.rejects(askPeer(t, port, grpc.credentials.createSsl(certs.caCertBuffer)), {
      code: grpc.status.UNAVAILABLE,
    });
  });

  test('a client certificate from another CA is refused', async (t) => {
    const other = await createTestCertificates();
    const stranger = await other.issueClientCertificate();
    const port = await startPeerEcho(t, mtlsServer(true));
    await assert.rejects(
      askPeer(t, port, grpc.credentials.createSsl(certs.caCertBuffer, stranger.keyBuffer, stranger.certBuffer)),
      { code: grpc.status.UNAVAILABLE },
    );
  });

  test('refuses bad options before running openssl, naming the option', async () => {
    const cases: [unknown, string][] = [
      [
        { spiffeId: 'https://example.org/x' },
        'issueClientCertificate: spiffeId must be spiffe://trust-domain/path (letters, digits, . _ ~ % -)',
      ],
      [
        { spiffeId: 'spiffe://example.org/a,DNS:evil' },
        'issueClientCertificate: spiffeId must be spiffe://trust-domain/path (letters, digits, . _ ~ % -)',
      ],
      [{ dnsNames: 'a.example' }, 'issueClientCertificate: dnsNames must be an array of host names'],
      [{ dnsNames: ['a b'] }, 'issueClientCertificate: dnsNames must be an array of host names'],
      [{ commonName: 'x/O=evil' }, 'issueClientCertificate: commonName must be 1 to 64 letters, digits, spaces, . _ -'],
      [{ validityDays: 0 }, 'issueClientCertificate: validityDays must be a whole number of days from 1 to 36500'],
      [{ spifeId: 'spiffe://x' }, 'unknown issueClientCertificate option "spifeId"; did you mean "spiffeId"?'],
    ];
    for (const [options, message] of cases)
      await assert.rejects(certs.issueClientCertificate(options as ClientCertificateOptions), invalidOption(message));
  });
});

describe('ClientCertificate.renew: the same identity with a new key, renewed in place', () => {
  let certs: TestCertificates;
  before(async () => {
    certs = await createTestCertificates();
  });

  /** What a renewal must keep: issuer, subject, SANs and how long it is valid. */
  function identity(pem: string): Record<string, unknown> {
    const x509 = new X509Certificate(pem);
    const { issuer, subject, subjectAltName } = x509;
    return {
      issuer,
      subject,
      subjectAltName,
      days: (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000,
    };
  }

  test('renew() issues the same SPIFFE ID, subject and validity from the same CA, with a new key pair', async () => {
    const spiffeId = 'spiffe://example.org/ns/orders/sa/api';
    const options: ClientCertificateOptions = { spiffeId, dnsNames: ['orders.internal'], validityDays: 3 };
    const first = await certs.issueClientCertificate(options);
    options.dnsNames = ['changed.internal']; // the caller's object changing later changes nothing
    const next = await first.renew();
    assert.deepEqual(identity(next.cert), identity(first.cert));
    assert.equal(new X509Certificate(next.cert).subjectAltName, `URI:${spiffeId}, DNS:orders.internal`);
    assert.equal(new X509Certificate(next.cert).checkIssued(new X509Certificate(certs.caCert)), true);
    assert.notEqual(next.key, first.key);
    assert.notEqual(next.sha256, first.sha256);
    assert.equal(new X509Certificate(next.cert).checkPrivateKey(createPrivateKey(next.key)), true);
    assert.equal(typeof next.renew, 'function', 'a renewal renews again');
    const keysIn = (text: string): number => text.split('PRIVATE KEY-----').length - 1;
    assert.equal(keysIn(inspect(next, { depth: 5, showHidden: true })), 2, "its own key only, never the CA's");
  });

  test('renewed in place: writeCertificateFiles.renew swaps in the renewal under the same file names', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'client-renew-test-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const first = await certs.issueClientCertificate({ spiffeId: 'spiffe://example.org/ns/orders/sa/api' });
    const files = await writeCertificateFiles(dir, { cert: first.cert, key: first.key, ca: certs.caCert });
    const next = await first.renew();
    await files.renew({ cert: next.cert, key: next.key, ca: certs.caCert });
    const cert = await readFile(files.certFile, 'utf8');
    assert.equal(cert, next.cert);
    assert.deepEqual(identity(cert), identity(first.cert));
    assert.equal(new X509Certificate(cert).checkPrivateKey(createPrivateKey(await readFile(files.keyFile))), true);
  });
});

describe('createSelfSignedClientCertificate', () => {
  test('a clientAuth certificate signed by its own key, with the SANs asked for; renew() keeps them', async () => {
    const client = await createSelfSignedClientCertificate({
      spiffeId: 'spiffe://example.org/ns/orders/sa/api',
      dnsNames: ['orders.internal'],
      commonName: 'orders self-signed',
      validityDays: 4,
    });
    const x509 = new X509Certificate(client.cert);
    assert.equal(x509.subject, 'CN=orders self-signed');
    assert.equal(x509.issuer, x509.subject);
    assert.equal(x509.verify(x509.publicKey), true, 'signed by its own key');
    assert.equal(x509.ca, false);
    assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'extendedKeyUsage clientAuth');
    assert.equal(x509.subjectAltName, 'URI:spiffe://example.org/ns/orders/sa/api, DNS:orders.internal');
    assert.equal(Date.parse(x509.validTo) - Date.parse(x509.validFrom), 4 * 86_400_000);
    assert.equal(client.sha256, createHash('sha256').update(x509.raw).digest('base64url'));
    const next = await client.renew();
    const renewed = new X509Certificate(next.cert);
    assert.deepEqual(
      [renewed.subject, renewed.issuer, renewed.subjectAltName],
      [x509.subject, x509.issuer, x509.subjectAltName],
    );
    assert.notEqual(next.sha256, client.sha256);
  });

  test('refuses bad options before running openssl, naming the function and the option', async () => {
    await assert.rejects(
      createSelfSignedClientCertificate({ validityDays: -1 }),
      invalidOption('createSelfSignedClientCertificate: validityDays must be a whole number of days from 1 to 36500'),
    );
    await assert.rejects(
      createSelfSignedClientCertificate({ dnsName: ['x'] } as ClientCertificateOptions),
      invalidOption('unknown createSelfSignedClientCertificate option "dnsName"; did you mean "dnsNames"?'),
    );
  });
});
