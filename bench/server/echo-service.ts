// The benchmark's gRPC service: one unary and one bidi method that echo raw bytes. Serialization is
// the identity, so the time measured is grpc-js's and ours, not a codec's.
import type * as grpc from '@grpc/grpc-js';

const identity = (bytes: Buffer): Buffer => bytes;

function method(path: string, streaming: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream: streaming,
    responseStream: streaming,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
}

export const echoService = {
  Unary: method('/bench.v1.Echo/Unary', false),
  Bidi: method('/bench.v1.Echo/Bidi', true),
} satisfies grpc.ServiceDefinition;

/** A small request, about the size of a typical control-plane message. */
export const requestBytes = Buffer.from('{"id":"order-42"}');
