// Run by grpc-js-facts.test.ts in a child process, because the crash it shows would end the test
// runner too: one call with per-call credentials whose metadata generator calls back with
// `cb(null, <argv[2]>)`, where argv[2] is 'undefined' or 'metadata'. Prints the call's outcome.
import * as grpc from '@grpc/grpc-js';

const mode = process.argv[2];
const server = new grpc.Server();
const echo: grpc.MethodDefinition<Buffer, Buffer> = {
  path: '/test.v1.Echo/Unary',
  requestStream: false,
  responseStream: false,
  requestSerialize: (value) => value,
  requestDeserialize: (bytes) => bytes,
  responseSerialize: (value) => value,
  responseDeserialize: (bytes) => bytes,
};
server.addService(
  { Unary: echo },
  {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, call.request),
  },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const credentials = grpc.credentials.createFromMetadataGenerator((_params, callback) =>
    callback(null, mode === 'undefined' ? undefined : new grpc.Metadata()),
  );
  client.makeUnaryRequest(
    echo.path,
    echo.requestSerialize,
    echo.responseDeserialize,
    Buffer.from('hi'),
    { credentials },
    (callError) => {
      console.log(callError ? `call ended ${callError.code}` : 'call succeeded');
      client.close();
      server.forceShutdown();
    },
  );
});
