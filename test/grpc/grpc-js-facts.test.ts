// Pins, against the installed @grpc/grpc-js, the facts docs/grpc-js-facts.md lists and src/grpc
// relies on. A failure here means grpc-js changed under us: read the fact's section before "fixing"
// the test. Two facts are pinned where the behaviour built on them is tested: plaintext per-call
// credentials in insecure-channel.test.ts, the dropped connection in duplicate-authorization.test.ts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { TestContext } from 'node:test';
import { bidi, openBidi, startGrpcFixture, unary, type GrpcFixture } from '../helpers/grpc-fixture.js';
import { runScript } from '../helpers/run-script.js';
import { until } from '../helpers/token-fixtures.js';

async function fixture(t: TestContext, tls = true): Promise<GrpcFixture> {
  const server = await startGrpcFixture({ tls });
  t.after(() => server.close());
  return server;
}

type GeneratorCallback = Parameters<Parameters<typeof grpc.credentials.createFromMetadataGenerator>[0]>[1];

/** Per-call credentials from a generator, recording what grpc-js passed it. */
function generator(answer: (callback: GeneratorCallback) => void): {
  credentials: grpc.CallCredentials;
  params: Record<string, unknown>[];
} {
  const params: Record<string, unknown>[] = [];
  const credentials = grpc.credentials.createFromMetadataGenerator((options, callback) => {
    params.push({ ...options });
    answer(callback);
  });
  return { credentials, params };
}

const withHeader = (callback: GeneratorCallback): void => {
  const metadata = new grpc.Metadata();
  metadata.set('x-from-generator', 'yes');
  callback(null, metadata);
};

test('compose() refuses insecure channel credentials: the only gate grpc-js has', () => {
  const callCredentials = grpc.credentials.createFromMetadataGenerator((_params, callback) =>
    callback(null, new grpc.Metadata()),
  );
  assert.throws(
    () => grpc.credentials.createInsecure().compose(callCredentials),
    /Cannot compose insecure credentials/,
  );
  assert.throws(
    () => grpc.credentials.combineChannelCredentials(grpc.credentials.createInsecure(), callCredentials),
    /Cannot compose insecure credentials/,
  );
});

test('a metadata generator is told only service_url and method_name, and service_url says https on a plaintext channel', async (t) => {
  const server = await fixture(t, false);
  const { credentials, params } = generator(withHeader);

  const result = await unary(server.client(grpc.credentials.createInsecure()), {
    options: { credentials, deadline: Date.now() + 5000 },
  });

  assert.equal(result.error, undefined);
  assert.deepEqual(Object.keys(params[0] ?? {}).sort(), ['method_name', 'service_url']);
  assert.match(String(params[0]?.service_url), /^https:\/\//);
});

test('a generator that calls back with neither metadata nor an error crashes the process', async () => {
  const crashed = await runScript('test/grpc/scripts/generator-callback.ts', ['undefined']);
  const control = await runScript('test/grpc/scripts/generator-callback.ts', ['metadata']);

  assert.notEqual(crashed.code, 0);
  assert.doesNotMatch(crashed.stdout, /call (ended|succeeded)/, 'the call never reported back');
  assert.equal(control.code, 0);
  assert.match(control.stdout, /call succeeded/);
});

for (const [error, expected] of [
  [Object.assign(new Error('plain'), {}), grpc.status.UNKNOWN],
  [Object.assign(new Error('unavailable'), { code: grpc.status.UNAVAILABLE }), grpc.status.UNAVAILABLE],
  [Object.assign(new Error('unauthenticated'), { code: grpc.status.UNAUTHENTICATED }), grpc.status.UNAUTHENTICATED],
  [Object.assign(new Error('internal'), { code: grpc.status.INTERNAL }), grpc.status.INTERNAL],
  [Object.assign(new Error('not found'), { code: grpc.status.NOT_FOUND }), grpc.status.INTERNAL],
  [Object.assign(new Error('permission'), { code: grpc.status.PERMISSION_DENIED }), grpc.status.PERMISSION_DENIED],
  [Object.assign(new Error('precondition'), { code: grpc.status.FAILED_PRECONDITION }), grpc.status.INTERNAL],
] as const) {
  test(`a generator error ${'code' in error ? `with code ${grpc.status[error.code]}` : 'without a code'} ends the call ${grpc.status[expected]}`, async (t) => {
    const server = await fixture(t);
    const { credentials } = generator((callback) => callback(error));

    const result = await unary(server.client(server.channelCredentials()), { options: { credentials } });

    assert.equal(result.error?.code, expected);
    assert.match(result.error.details, new RegExp(`Getting metadata from plugin failed with error: ${error.message}`));
    assert.equal(server.received.length, 0);
  });
}

test('a generator that never answers does not hold the call past its deadline', async (t) => {
  const server = await fixture(t);
  const { credentials } = generator(() => undefined);

  const started = performance.now();
  const result = await unary(server.client(server.channelCredentials()), {
    options: { credentials, deadline: Date.now() + 300 },
  });

  assert.equal(result.error?.code, grpc.status.DEADLINE_EXCEEDED);
  assert.ok(performance.now() - started < 1000);
  assert.equal(server.received.length, 0);
});

test('metadata is generated once per call: a stream of many messages carries the header it started with', async (t) => {
  const server = await fixture(t);
  const { credentials, params } = generator(withHeader);
  const stream = openBidi(server.client(server.channelCredentials()), { options: { credentials } });

  for (const text of ['a', 'b', 'c']) {
    stream.stream.write({ text });
    await stream.nextReply();
  }
  stream.stream.end();

  assert.equal((await stream.ended).error, undefined);
  assert.equal(params.length, 1);
  assert.equal(server.received.length, 1);
});

test("call-level interceptors replace the client's interceptors", async (t) => {
  const server = await fixture(t);
  const ran: string[] = [];
  const named =
    (name: string): grpc.Interceptor =>
    (options, nextCall) => {
      ran.push(name);
      return new grpc.InterceptingCall(nextCall(options));
    };
  const client = server.client(server.channelCredentials(), { interceptors: [named('client-level')] });

  await unary(client);
  await unary(client, { options: { interceptors: [named('call-level')] } });

  assert.deepEqual(ran, ['client-level', 'call-level']);
});

test('grpc-js leaves the Metadata object a call was started with unchanged', async (t) => {
  const server = await fixture(t);
  const { credentials } = generator(withHeader);
  const metadata = new grpc.Metadata();
  metadata.set('x-request-id', 'req-42');

  const result = await bidi(server.client(server.channelCredentials(), { 'grpc.default_compression_algorithm': 2 }), {
    metadata,
    options: { credentials },
  });

  assert.equal(result.error, undefined);
  assert.deepEqual(result.replies[0]?.metadata['x-from-generator'], ['yes']);
  assert.deepEqual(metadata.toJSON(), { 'x-request-id': ['req-42'] });
});

test('a unary call that gets no response message reports a null message just before its status', async (t) => {
  const server = await fixture(t);
  server.rejectIf = () => true;
  const events: string[] = [];
  const recorder: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        next(metadata, {
          onReceiveMessage(message, nextMessage) {
            events.push(message === null ? 'message null' : 'message');
            nextMessage(message);
          },
          onReceiveStatus(status, nextStatus) {
            events.push(`status ${status.code}`);
            nextStatus(status);
          },
        });
      },
    });

  await unary(server.client(server.channelCredentials(), { interceptors: [recorder] }));

  assert.deepEqual(events, ['message null', `status ${grpc.status.UNAUTHENTICATED}`]);
});

/** An HTTP/2 frame: length, type, flags, stream id, payload (RFC 9113 §4.1). */
function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK integer with a 7-bit prefix (RFC 7541 §5.1). */
function hpackLength(value: number): number[] {
  if (value < 127) return [value];
  const bytes = [127];
  for (value -= 127; value >= 128; value = Math.floor(value / 128)) bytes.push((value % 128) + 128);
  return [...bytes, value];
}

/** A header block of literal fields without indexing, new names, no Huffman (RFC 7541 §6.2.2). */
function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(
    fields.map(([name, value]) =>
      Buffer.from([
        0,
        ...hpackLength(name.length),
        ...Buffer.from(name),
        ...hpackLength(value.length),
        ...Buffer.from(value),
      ]),
    ),
  );
}

test("Node's HTTP/2 server keeps only the first of two authorization values: grpc-js and its interceptors never see the second", async (t) => {
  // Node's own HTTP/2 client refuses to send two (ERR_HTTP2_HEADER_SINGLE_VALUE), and so does grpc-js's:
  // the frames are written by hand, as a client that wanted to smuggle a second token would.
  const server = await fixture(t);
  const [host, port] = server.address.split(':') as [string, string];
  const socket = tls.connect({
    host,
    port: Number(port),
    ca: server.caCert,
    servername: 'localhost',
    ALPNProtocols: ['h2'],
  });
  t.after(() => socket.destroy());
  await once(socket, 'secureConnect');
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    // Acknowledge the server's SETTINGS frames, as RFC 9113 §6.5.3 requires.
    for (received = Buffer.concat([received, chunk]); received.length >= 9;) {
      const length = received.readUIntBE(0, 3);
      if (received.length < 9 + length) break;
      if (received.readUInt8(3) === 0x4 && (received.readUInt8(4) & 0x1) === 0) socket.write(frame(0x4, 0x1, 0));
      received = received.subarray(9 + length);
    }
  });
  const message = Buffer.from(JSON.stringify({ text: 'smuggled' }));
  const grpcMessage = Buffer.concat([Buffer.from([0]), Buffer.alloc(4), message]);
  grpcMessage.writeUInt32BE(message.length, 1);
  socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  socket.write(frame(0x4, 0, 0));
  const fields = [
    [':method', 'POST'],
    [':scheme', 'https'],
    [':path', '/test.v1.Echo/Unary'],
    [':authority', 'localhost'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
    ['authorization', 'Bearer first'],
    ['authorization', 'Bearer second'],
    // The control: two values of an ordinary header both arrive, so the frames do carry two.
    ['x-twice', 'one'],
    ['x-twice', 'two'],
  ] as const;
  socket.write(frame(0x1, 0x4, 1, headerBlock(fields)));
  socket.write(frame(0x0, 0x1, 1, grpcMessage));

  await until(() => server.received.length === 1);
  assert.deepEqual(server.received[0]?.authorization, ['Bearer first']);
  assert.deepEqual(server.received[0]?.metadata['x-twice'], ['one, two'], 'Node joins the values of other headers');
  assert.equal(server.received[0]?.text, 'smuggled');
});
