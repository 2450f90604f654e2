// The do-it-yourself receiving side: the server interceptor a user writes instead of this SDK's, in
// about forty lines. jose's `createRemoteJWKSet` (keys fetched once, cached, refetched on an unknown
// kid) and `jwtVerify` on every call, a scope check per method, and the status mapping.
import * as grpc from '@grpc/grpc-js';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

export interface DiyServerOptions {
  readonly jwksUri: URL;
  readonly issuer: string;
  readonly audience: string;
  /** Scopes each full method path needs; a method not named is refused. */
  readonly methods: Readonly<Record<string, readonly string[]>>;
}

/** A refusal, or `undefined` when the call may go on. */
type Refusal = { code: grpc.status; details: string } | undefined;

export function createDiyServerInterceptor(options: DiyServerOptions): grpc.ServerInterceptor {
  const jwks = createRemoteJWKSet(options.jwksUri);

  async function check(method: string, metadata: grpc.Metadata): Promise<Refusal> {
    const [authorization] = metadata.get('authorization');
    if (typeof authorization !== 'string' || !authorization.startsWith('Bearer '))
      return { code: grpc.status.UNAUTHENTICATED, details: 'missing bearer token' };
    let scope: unknown;
    try {
      const { payload } = await jwtVerify(authorization.slice('Bearer '.length), jwks, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['RS256'],
      });
      scope = payload.scope;
    } catch (err) {
      return err instanceof errors.JWKSTimeout
        ? { code: grpc.status.UNAVAILABLE, details: 'signing keys unavailable' }
        : { code: grpc.status.UNAUTHENTICATED, details: 'invalid bearer token' };
    }
    const needed = options.methods[method];
    const granted = typeof scope === 'string' ? scope.split(' ') : [];
    if (needed === undefined || !needed.every((s) => granted.includes(s)))
      return { code: grpc.status.PERMISSION_DENIED, details: 'missing scope' };
    return undefined;
  }

  return (descriptor, nextCall) => {
    const call: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(nextCall, {
      start(next) {
        next({
          onReceiveMetadata(metadata, passOn) {
            check(descriptor.path, metadata).then(
              (refusal) => (refusal === undefined ? passOn(metadata) : call.sendStatus(refusal)),
              () => call.sendStatus({ code: grpc.status.INTERNAL, details: 'authentication failed' }),
            );
          },
        });
      },
    });
    return call;
  };
}
