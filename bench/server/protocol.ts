// What the benchmark client and its server process say to each other over the fork() IPC channel.
import type { TokenServerFault } from '../../src/testing/index.js';

/** The one client registered with the benchmark's MockTokenServer. */
export const benchClient = {
  clientId: 'bench-client',
  clientSecret: 'bench-client-secret',
  scope: 'orders.read',
} as const;

/** Sent once by the server process when both servers listen. */
export interface ReadyMessage {
  readonly type: 'ready';
  /** `127.0.0.1:<port>` of the TLS gRPC server. */
  readonly grpcAddress: string;
  readonly tokenEndpoint: string;
  /** PEM of the CA that signed the gRPC server's certificate. */
  readonly caCert: string;
}

/** Commands to the MockTokenServer in the server process. */
export type Command =
  | { readonly type: 'failNext'; readonly count: number; readonly fault: TokenServerFault }
  | { readonly type: 'clearFaults' }
  | { readonly type: 'setTokenLifetime'; readonly seconds: number }
  /** Moves the token server's clock (`iat`, `exp`, `Date`) this far ahead of the wall clock. */
  | { readonly type: 'setClockOffset'; readonly ms: number }
  | { readonly type: 'tokenRequestCount' }
  | { readonly type: 'stop' };

export interface CommandMessage {
  readonly id: number;
  readonly command: Command;
}

export interface ReplyMessage {
  readonly type: 'reply';
  readonly id: number;
  /** The token request count for `tokenRequestCount`; 0 otherwise. */
  readonly value: number;
}
