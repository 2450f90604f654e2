import { isoDateOfClaim, scopesOfClaims, unverifiedJwt } from '../token/unverified-claims.js';
import { fromNow } from './command-line.js';

/** The time claims, shown as dates with the time left or gone. */
const timeClaims = ['exp', 'iat', 'nbf'] as const;

/** A JWT as `token` and `inspect` report it: decoded, never verified, never with the token or signature. */
export interface JwtReport {
  readonly signatureVerified: false;
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
  /** `exp`, `iat`, `nbf` as ISO dates, and seconds from now (negative: past); absent for a value no date can hold. */
  readonly times: Record<string, { readonly date: string; readonly secondsFromNow: number }>;
  readonly scopes: readonly string[] | undefined;
}

/**
 * The report of `token`, or `undefined` when it is not a JWT.
 *
 * @example
 * ```ts
 * jwtReport(accessToken)?.times.exp?.secondsFromNow; // 3599
 * ```
 */
export function jwtReport(token: string, nowMs = Date.now()): JwtReport | undefined {
  const jwt = unverifiedJwt(token);
  if (jwt === undefined) return undefined;
  const times: Record<string, { date: string; secondsFromNow: number }> = {};
  for (const name of timeClaims) {
    const value = jwt.claims[name];
    const date = isoDateOfClaim(value);
    if (date !== undefined && typeof value === 'number')
      times[name] = { date, secondsFromNow: Math.round(value - nowMs / 1000) };
  }
  return {
    signatureVerified: false,
    header: { ...jwt.header },
    claims: { ...jwt.claims },
    times,
    scopes: scopesOfClaims(jwt.claims),
  };
}

/**
 * The report as aligned text lines: a plain statement that the signature was not checked, the
 * header, then each claim (time claims as dates with the time left or gone).
 *
 * @example
 * ```ts
 * stdout(reportLines(report, Date.now()).join('\n'));
 * ```
 */
export function reportLines(report: JwtReport, nowMs = Date.now()): string[] {
  const lines = ['signature  NOT VERIFIED: decoded only; this does not show the token is genuine', 'header'];
  for (const [name, value] of Object.entries(report.header)) lines.push(`  ${name.padEnd(10)} ${show(value)}`);
  lines.push('claims');
  for (const [name, value] of Object.entries(report.claims)) {
    lines.push(`  ${name.padEnd(10)} ${showClaim(report, name, value, nowMs)}`);
  }
  return lines;
}

/** A claim's value; a time claim as a date and the time left, or as it is when no date can hold it. */
function showClaim(report: JwtReport, name: string, value: unknown, nowMs: number): string {
  const time = report.times[name];
  if (time !== undefined) return `${time.date} (${fromNow(Date.parse(time.date), nowMs)})`;
  const isTimeClaim = (timeClaims as readonly string[]).includes(name);
  return isTimeClaim && typeof value === 'number' ? `${String(value)} (out of range for a date)` : show(value);
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
