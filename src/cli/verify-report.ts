import type { JWTPayload } from 'jose';
import { isoDateOfClaim } from '../token/unverified-claims.js';
import type { Decision } from '../server/decision.js';
import { statusCode, type DenialReason } from '../server/denial.js';
import { fromNow } from './command-line.js';
import { reportLines, type JwtReport } from './jwt-report.js';

/** What `grpc-oauth2 verify` found: the server's decision, and what it was asked. Never the token. */
export interface VerifyOutcome {
  readonly decision: Decision;
  /** The `--method` asked about; `undefined` when only the token was checked. */
  readonly method: string | undefined;
  /** The settings the token was checked against, to show beside a refusal. */
  readonly expected: { readonly issuer: string; readonly audience: readonly string[] };
  /** The token decoded without verification, when it is a JWT that did not verify; else `undefined`. */
  readonly unverified: JwtReport | undefined;
}

/**
 * `grpc-oauth2 verify --json`: the decision as the server's `onDecision` would get it (`allowed`,
 * `code`, `reason`, `details`, `internalDetails`, `issuer`, `subject`), plus the gRPC status name,
 * the scopes a `missing_scope` names, the verified claims, and a token that did not verify decoded
 * (marked `signatureVerified: false`).
 */
export interface VerifyReport {
  readonly allowed: boolean;
  readonly method: string | null;
  readonly status: string;
  readonly code: number;
  readonly reason: DenialReason | 'granted' | 'public';
  readonly details: string;
  readonly internalDetails: string;
  readonly scopes: readonly string[];
  readonly issuer: string | null;
  readonly subject: string | null;
  readonly claims: Readonly<JWTPayload> | null;
  readonly unverified: JwtReport | null;
}

/** The report of `outcome`, as JSON prints it. */
export function verifyReport({ decision, method, unverified }: VerifyOutcome): VerifyReport {
  const { denial, claims, isPublic } = decision;
  const code = denial?.code ?? statusCode.OK;
  return {
    allowed: denial === undefined,
    method: method ?? null,
    status: statusName(code),
    code,
    reason: denial?.reason ?? (isPublic ? 'public' : 'granted'),
    details: denial?.details ?? '',
    internalDetails: denial?.internalDetails ?? '',
    scopes: denial?.scopes ?? [],
    issuer: typeof claims?.iss === 'string' ? claims.iss : null,
    subject: typeof claims?.sub === 'string' ? claims.sub : null,
    claims: claims ?? null,
    unverified: unverified ?? null,
  };
}

/**
 * `outcome` for a person: the verdict first (`verified: ...` or `refused: <STATUS> <reason>: <details>`
 * in the server's words, with the internal details when they say more), then the claims.
 */
export function verifyLines(outcome: VerifyOutcome, nowMs = Date.now()): string[] {
  const { decision, method, expected, unverified } = outcome;
  const { denial, claims, isPublic } = decision;
  if (isPublic)
    return [
      `allowed: ${method} is public: the server lets every call through without looking at the token (not checked)`,
    ];
  const lines: string[] = [];
  if (denial === undefined) {
    lines.push(`verified: the token is valid for issuer ${String(claims?.iss)}`);
    if (method !== undefined) lines.push(`allowed: ${method}`);
  } else {
    lines.push(`refused: ${statusName(denial.code)} ${denial.reason}: ${denial.details}`);
    if (denial.internalDetails !== denial.details) lines.push(`internal details: ${denial.internalDetails}`);
    if (claims !== undefined)
      lines.push(`the token itself is valid for issuer ${String(claims.iss)}; the policy refuses it`);
  }
  if (claims === undefined) {
    lines.push(`expected: issuer ${expected.issuer}, audience ${expected.audience.join(' or ')}`);
    if (unverified !== undefined) lines.push(...reportLines(unverified, nowMs));
    return lines;
  }
  const expires = isoDateOfClaim(claims.exp);
  if (expires !== undefined) lines.push(`expires: ${expires} (${fromNow(Date.parse(expires), nowMs)})`);
  lines.push('claims:', JSON.stringify(claims, undefined, 2));
  return lines;
}

/** `UNAUTHENTICATED` for 16: the names of the codes a decision ends with. */
function statusName(code: number): string {
  return Object.entries(statusCode).find(([, number]) => number === code)?.[0] ?? String(code);
}
