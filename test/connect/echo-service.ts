// The Connect test service, defined from a descriptor built in code: no .proto file, no code
// generation. The same shapes as test/helpers/grpc-fixture.ts (request `text`; reply `method`,
// `authorization`, `text`), so a Connect client can also call that grpc-js server (with JSON messages).
import { create, createFileRegistry, type Message } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';

export type EchoRequest = Message<'test.v1.EchoRequest'> & { text: string };
export type EchoReply = Message<'test.v1.EchoReply'> & {
  /** The method path the server ran. */
  method: string;
  /** Every `authorization` value the server received. */
  authorization: string[];
  /** Echo of the request's `text` (unary, server-streaming, bidi) or the message count (client-streaming). */
  text: string;
};

const { STRING } = FieldDescriptorProto_Type;
const { OPTIONAL, REPEATED } = FieldDescriptorProto_Label;
const field = (name: string, number: number, label = OPTIONAL) => ({
  name,
  number,
  type: STRING,
  label,
  jsonName: name,
});
const method = (name: string, clientStreaming: boolean, serverStreaming: boolean) => ({
  name,
  inputType: '.test.v1.EchoRequest',
  outputType: '.test.v1.EchoReply',
  clientStreaming,
  serverStreaming,
});

const file = create(FileDescriptorProtoSchema, {
  name: 'test/v1/echo.proto',
  package: 'test.v1',
  syntax: 'proto3',
  messageType: [
    { name: 'EchoRequest', field: [field('text', 1)] },
    { name: 'EchoReply', field: [field('method', 1), field('authorization', 2, REPEATED), field('text', 3)] },
  ],
  service: [
    {
      name: 'Echo',
      method: [
        method('Unary', false, false),
        method('ClientStream', true, false),
        method('ServerStream', false, true),
        method('Bidi', true, true),
      ],
    },
  ],
});

const registry = createFileRegistry(file, () => undefined);

export const EchoRequestSchema = registry.getMessage('test.v1.EchoRequest') as unknown as GenMessage<EchoRequest>;
export const EchoReplySchema = registry.getMessage('test.v1.EchoReply') as unknown as GenMessage<EchoReply>;

type Kind<K extends 'unary' | 'client_streaming' | 'server_streaming' | 'bidi_streaming'> = {
  methodKind: K;
  input: typeof EchoRequestSchema;
  output: typeof EchoReplySchema;
};

/** `test.v1.Echo`: Unary, ClientStream, ServerStream, Bidi; method paths as in the grpc-js fixture. */
export const EchoService = registry.getService('test.v1.Echo') as unknown as GenService<{
  unary: Kind<'unary'>;
  clientStream: Kind<'client_streaming'>;
  serverStream: Kind<'server_streaming'>;
  bidi: Kind<'bidi_streaming'>;
}>;
