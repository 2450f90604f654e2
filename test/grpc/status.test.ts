import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { callEndedStatus, tokenFailureStatus } from '../../src/grpc/status.js';
import { TokenError } from '../../src/index.js';

test('a retryable token error becomes UNAVAILABLE, so a gRPC retry policy applies', () => {
  const error = tokenFailureStatus(
    new TokenError('network', 'could not reach token endpoint http://127.0.0.1:1/token', { retryable: true }),
  );

  assert.equal(error.code, status.UNAVAILABLE);
  assert.equal(
    error.details,
    'no OAuth2 access token (network): could not reach token endpoint http://127.0.0.1:1/token',
  );
  assert.equal(error.message, error.details);
});

test('a fatal token error becomes UNAUTHENTICATED and keeps the OAuth error code in the details', () => {
  const error = tokenFailureStatus(
    new TokenError('invalid_scope', 'token endpoint https://auth.example.com/token answered HTTP 400 invalid_scope', {
      status: 400,
    }),
  );

  assert.equal(error.code, status.UNAUTHENTICATED);
  assert.match(error.details, /\(invalid_scope\)/);
});

test('an error that is not a TokenError becomes UNAUTHENTICATED with its message withheld', () => {
  const error = tokenFailureStatus(new RangeError('secret-value in a message'));

  assert.equal(error.code, status.UNAUTHENTICATED);
  assert.match(error.details, /RangeError/);
  assert.ok(!error.details.includes('secret-value'));
});

test('a call that ended while waiting for a token is reported DEADLINE_EXCEEDED', () => {
  assert.equal(callEndedStatus().code, status.DEADLINE_EXCEEDED);
});

test("every code used passes grpc-js's control-plane filter (gRFC A54) unchanged", () => {
  const allowed = new Set([1, 2, 4, 7, 8, 12, 13, 14, 16]);
  const codes = [
    tokenFailureStatus(new TokenError('timeout', 'x', { retryable: true })).code,
    tokenFailureStatus(new TokenError('invalid_client', 'x')).code,
    tokenFailureStatus(undefined).code,
    callEndedStatus().code,
  ];
  for (const code of codes) assert.ok(allowed.has(code), `code ${code}`);
});
