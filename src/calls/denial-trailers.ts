/**
 * The trailers with which `./server` says why it refused a call, and which `explainAuthFailure` on
 * the client side reads: one place, so the two sides cannot drift apart. Plain strings; no transport.
 */

/** Trailer naming the reason of a refused call, e.g. `grpc-oauth2-reason: missing_scope`. */
export const reasonTrailer = 'grpc-oauth2-reason';

/** Trailer listing, space-separated, the scopes a `missing_scope` refusal wanted (the RFC 6750 `scope` idea). */
export const scopeTrailer = 'grpc-oauth2-scope';
