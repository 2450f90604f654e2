// An Introspector against a real introspection endpoint on loopback, on a manual clock.
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { Introspector, type IntrospectorSettings } from '../../src/server/introspection/introspector.js';
import { resolveIntrospectionOptions, type IntrospectionOptions } from '../../src/server/introspection/options.js';
import { VerifiedTokenCache } from '../../src/server/verified-cache.js';
import { ManualClock } from '../../src/testing/index.js';
import { startIntrospectionEndpoint, type IntrospectionEndpoint } from './introspection-endpoint.js';

export const clientId = 'orders-api';
export const clientSecret = 'introspection-Secret_0123.!~';
export const audience = 'https://orders.example.com';
/** The manual clock's start, in ms since the epoch. */
export const startMs = Date.parse('2030-01-01T00:00:00Z');
export const startSec = startMs / 1000;

export interface IntrospectionFixture {
  readonly endpoint: IntrospectionEndpoint;
  readonly clock: ManualClock;
  /** An Introspector of the endpoint's issuer, client_secret_basic with the endpoint given, unless overridden. */
  readonly make: (options?: Partial<IntrospectionOptions>, settings?: Partial<IntrospectorSettings>) => Introspector;
  /** A new opaque token the endpoint answers with `answer` (`active: true` and a valid `exp` unless given). */
  readonly issue: (answer?: Record<string, unknown>) => string;
}

/** A new opaque token (never a JWT). */
export function opaqueToken(): string {
  return `opaque_${randomBytes(24).toString('base64url')}`;
}

/** `introspector.introspect(token)` with the key the interceptor computes. */
export function introspect(introspector: Introspector, token: string): ReturnType<Introspector['introspect']> {
  return introspector.introspect(token, VerifiedTokenCache.keyOf(token));
}

export async function introspectionFixture(t: TestContext): Promise<IntrospectionFixture> {
  const endpoint = await startIntrospectionEndpoint(t, { clientId, secret: clientSecret });
  const clock = new ManualClock(startMs);
  endpoint.now = () => clock.now();
  const make = (
    options: Partial<IntrospectionOptions> = {},
    settings: Partial<IntrospectorSettings> = {},
  ): Introspector =>
    new Introspector({
      issuer: endpoint.issuer,
      audience: [audience],
      clockToleranceSec: 30,
      requestTimeoutMs: 2_000,
      allowInsecureRequests: true,
      clock,
      maxCachedTokens: 1_000,
      ...settings,
      introspection: resolveIntrospectionOptions(
        { endpoint: endpoint.endpoint, clientId, clientSecret, ...options },
        'test: issuers[0]',
        true,
      ),
    });
  const issue = (answer: Record<string, unknown> = {}): string => {
    const token = opaqueToken();
    endpoint.answers.set(token, {
      active: true,
      sub: 'orders-svc',
      scope: 'orders.read orders.write',
      client_id: 'orders-svc',
      exp: startSec + 3_600,
      ...answer,
    });
    return token;
  };
  return { endpoint, clock, make, issue };
}
