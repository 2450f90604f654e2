import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import { connect, createServer, type ConnectionOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { createTestCertificates, type TestCertificateOptions, type TestCertificates } from '../../src/testing/index.js';
import { invalidOption } from '../helpers/config-error.js';

const echoPath = '/test.Echo/Echo';
const identity = (value: Buffer): Buffer => value;
const echoService: grpc.ServiceDefinition = {
  Echo: {
    path: echoPath,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

describe('createTestCertificates', () => {
  let certs: TestCertificates;
  before(async () => {
    certs = await createTestCertificates();
  });

  test('makes a CA and a server certificate for localhost and 127.0.0.1 that the CA signed', () => {
    const ca = new X509Certificate(certs.caCert);
    const server = new X509Certificate(certs.serverCert);
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.equal(server.checkIssued(ca), true);
    assert.equal(server.verify(ca.publicKey), true);
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'extendedKeyUsage serverAuth');
    assert.equal(server.checkPrivateKey(createPrivateKey(certs.serverKey)), true);
  });

  test('gives the key as PKCS#8 PEM and the Buffers as the same text', () => {
    assert.equal(
      certs.serverKey,
      createPrivateKey(certs.serverKey).export({ type: 'pkcs8', format: 'pem' }),
      'PKCS#8 PEM',
    );
    assert.equal(createPrivateKey(certs.serverKey).asymmetricKeyType, 'ec');
    assert.equal(certs.caCertBuffer.toString(), certs.caCert);
    assert.equal(certs.serverCertBuffer.toString(), certs.serverCert);
    assert.equal(certs.serverKeyBuffer.toString(), certs.serverKey);
  });

  test('completes a node:tls handshake by name and by IP, and fails without the CA', async (t) => {
    const server = createServer({ cert: certs.serverCert, key: certs.serverKey }, (socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const { port } = server.address() as AddressInfo;
    assert.equal(await tlsGreeting({ host: '127.0.0.1', port, ca: certs.caCert, servername: 'localhost' }), 'hello');
    assert.equal(await tlsGreeting({ host: '127.0.0.1', port, ca: certs.caCert }), 'hello');
    await assert.rejects(tlsGreeting({ host: '127.0.0.1', port, servername: 'localhost' }), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  test('serves a grpc-js call over TLS with createSsl on both sides', async (t) => {
    const server = new grpc.Server();
    server.addService(echoService, {
      Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback(null, call.request),
    });
    const credentials = grpc.ServerCredentials.createSsl(null, [
      { cert_chain: certs.serverCertBuffer, private_key: certs.serverKeyBuffer },
    ]);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    t.after(() => server.forceShutdown());
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createSsl(certs.caCertBuffer), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    t.after(() => client.close());
    const answer = await new Promise<Buffer | undefined>((resolve, reject) => {
      client.makeUnaryRequest(echoPath, identity, identity, Buffer.from('over tls'), (err, value) =>
        err ? reject(err) : resolve(value),
      );
    });
    assert.equal(answer?.toString(), 'over tls');
  });

  test('follows commonName and validityDays', async () => {
    const custom = await createTestCertificates({ commonName: 'orders.test', validityDays: 10 });
    const server = new X509Certificate(custom.serverCert);
    assert.match(server.subject, /CN=orders\.test/);
    assert.equal(server.checkHost('orders.test'), 'orders.test');
    assert.equal(server.checkHost('localhost'), 'localhost');
    const validMs = Date.parse(server.validTo) - Date.parse(server.validFrom);
    assert.equal(validMs, 10 * 86_400_000);
  });

  test('refuses a commonName that is not a host name', async () => {
    await assert.rejects(
      createTestCertificates({ commonName: 'bad/name,O=x' }),
      invalidOption('createTestCertificates: commonName must be a host name'),
    );
  });

  test('refuses a validityDays that is not a whole number of days, before running openssl', async () => {
    for (const validityDays of [0, 1.5, '10']) {
      await assert.rejects(
        createTestCertificates({ validityDays } as TestCertificateOptions),
        invalidOption('createTestCertificates: validityDays must be a whole number of days from 1 to 36500'),
      );
    }
  });
});

/** Connects, reads until the server ends the stream, and resolves with what it sent. */
function tlsGreeting(options: ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(options);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}
