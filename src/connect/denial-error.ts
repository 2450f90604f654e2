// A server's refusal as the ConnectError a Connect handler call ends with.
import { ConnectError } from '@connectrpc/connect';
import { reasonTrailer, scopeRuleTrailer, scopeTrailer } from '../calls/denial-trailers.js';
import type { Denial } from '../server/denial.js';

/**
 * The error to throw for `denial`: its code and details, and the reason (and, for `missing_scope`,
 * the wanted scopes and how they were wanted) in the error's metadata. Connect sends that metadata as
 * trailers on the gRPC and gRPC-web protocols, and as response headers (unary) or in the end-of-stream
 * message (streams) on the Connect protocol; on every one a Connect client finds it in `error.metadata`
 * and a grpc-js client in `error.metadata`. Nothing of the token is in it.
 */
export function connectErrorOf(denial: Denial): ConnectError {
  const metadata = new Headers({ [reasonTrailer]: denial.reason });
  if (denial.scopes.length > 0) {
    metadata.set(scopeTrailer, denial.scopes.join(' '));
    metadata.set(scopeRuleTrailer, denial.scopeRule);
  }
  // Denial codes are gRPC status numbers, which Connect's Code uses too.
  return new ConnectError(denial.details, denial.code, metadata);
}
