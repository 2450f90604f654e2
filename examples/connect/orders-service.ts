// `shop.v1.Orders`, defined from a descriptor built in code: with @bufbuild/protobuf v2 a service is
// a descriptor, and a small one needs no .proto file or code generation (generated `_pb.ts` files
// from `buf generate` work the same way).
import { create, createFileRegistry, type Message } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';

export type OrderRequest = Message<'shop.v1.OrderRequest'> & { id: string };
export type Order = Message<'shop.v1.Order'> & { id: string; status: string };

const stringField = (name: string, number: number) => ({
  name,
  number,
  type: FieldDescriptorProto_Type.STRING,
  label: FieldDescriptorProto_Label.OPTIONAL,
  jsonName: name,
});

const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'shop/v1/orders.proto',
    package: 'shop.v1',
    syntax: 'proto3',
    messageType: [
      { name: 'OrderRequest', field: [stringField('id', 1)] },
      { name: 'Order', field: [stringField('id', 1), stringField('status', 2)] },
    ],
    service: [
      {
        name: 'Orders',
        method: [
          { name: 'GetOrder', inputType: '.shop.v1.OrderRequest', outputType: '.shop.v1.Order' },
          {
            name: 'WatchOrder',
            inputType: '.shop.v1.OrderRequest',
            outputType: '.shop.v1.Order',
            serverStreaming: true,
          },
        ],
      },
    ],
  }),
  () => undefined,
);

export const OrderRequestSchema = registry.getMessage('shop.v1.OrderRequest') as unknown as GenMessage<OrderRequest>;
export const OrderSchema = registry.getMessage('shop.v1.Order') as unknown as GenMessage<Order>;

export const OrdersService = registry.getService('shop.v1.Orders') as unknown as GenService<{
  getOrder: { methodKind: 'unary'; input: typeof OrderRequestSchema; output: typeof OrderSchema };
  watchOrder: { methodKind: 'server_streaming'; input: typeof OrderRequestSchema; output: typeof OrderSchema };
}>;
