// A denial as the status a grpc-js server call ends with.
import { Metadata, type StatusObject } from '@grpc/grpc-js';
import { reasonTrailer, scopeRuleTrailer, scopeTrailer } from '../calls/denial-trailers.js';
import type { Denial } from './denial.js';

/** The status to send for `denial`: its code and details, and the reason (and wanted scopes) as trailers. */
export function grpcStatusOf(denial: Denial): Pick<StatusObject, 'code' | 'details' | 'metadata'> {
  const metadata = new Metadata();
  metadata.set(reasonTrailer, denial.reason);
  if (denial.scopes.length > 0) {
    metadata.set(scopeTrailer, denial.scopes.join(' '));
    metadata.set(scopeRuleTrailer, denial.scopeRule);
  }
  return { code: denial.code, details: denial.details, metadata };
}
