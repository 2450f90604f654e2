import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JWTPayload } from 'jose';
import { AuthConfigError } from '../common/config-error.js';
import { Authenticator } from '../server/authenticator.js';
import { decide } from '../server/decision.js';
import { resolveOptions, type ResolvedOptions } from '../server/options.js';
import { Policy } from '../server/policy.js';
import { exitCodes, parseCommandOrHelp, tokenArgument, UsageError, type StdinCommand } from './command-line.js';
import { jwtReport } from './jwt-report.js';
import { readPolicyFile } from './policy-file.js';
import { verifyLines, verifyReport } from './verify-report.js';

/** `grpc-oauth2 verify --help`. */
export const verifyHelp = `Usage: grpc-oauth2 verify [TOKEN | -] --issuer URL --audience AUD [flags]

Verifies an access token exactly as a grpc-oauth2-credentials/server interceptor with these settings
would (the same code), and prints its verified claims, or the reason the server would refuse it in
the server's own words: the gRPC status, the reason code, the details the client gets and, when they
say more, the internal details the server logs. With --method and --policy it also decides that
method's call as the server would. The token is read from stdin with - or no argument; give it that
way: a token given as the argument shows in ps and stays in your shell history. It is never printed.

Flags (the server option each sets in parentheses):
  --issuer URL                 the issuer tokens must come from (issuer)
  --audience AUD               the audience the server answers to; repeatable (audience)
  --jwks-uri URL               the issuer's JWKS (jwksUri; default: from its discovery document)
  --algorithm ALG              a JWS algorithm accepted; repeatable (algorithms; default: every asymmetric one)
  --clock-tolerance SEC        skew allowed on exp and nbf, in seconds (clockToleranceSec; default 30)
  --require-at-jwt             require the header typ at+jwt of RFC 9068 (requireAtJwt)
  --allow-insecure-requests    accept http:// issuer and JWKS URLs, for local tests (allowInsecureRequests)
  --client-certificate FILE    the client certificate (PEM) the call comes with, for a token bound to
                               one (RFC 8705 cnf x5t#S256); without it a bound token is refused
  --method /pkg.Svc/Method     decide a call to this method too; needs --policy
  --policy FILE                a JSON file {"methods": {...}, "publicMethods": [...]} in the shape of
                               the server's methods and publicMethods options (docs/cli.md)
  --json                       print the decision as JSON
  --help                       this text

A server's authorize function is code, and is not run here: verify checks the token and the scopes.
Exit codes: 0 the token verified (and the method is allowed), 1 the server would refuse it, 2 usage:
a bad flag, or settings or a policy file the server would refuse too.
`;

const flags = {
  issuer: { type: 'string' },
  audience: { type: 'string', multiple: true },
  'jwks-uri': { type: 'string' },
  algorithm: { type: 'string', multiple: true },
  'clock-tolerance': { type: 'string' },
  'require-at-jwt': { type: 'boolean' },
  'allow-insecure-requests': { type: 'boolean' },
  'client-certificate': { type: 'string' },
  method: { type: 'string' },
  policy: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** The name the server options are checked under, which begins their messages. */
const where = 'grpc-oauth2 verify';

/**
 * Without --method only the token is checked: as a call to this method, which the policy lets any
 * valid token call (no scopes), so that both go through the server's one `decide`.
 */
const anyValidToken = '/grpc_oauth2.verify.Token/Check';

/**
 * `grpc-oauth2 verify`: the token from the argument or stdin, checked by the server's own
 * `Authenticator`, `Policy` and `decide`; never printing the token.
 *
 * @returns the exit code: 0 allowed, 1 refused.
 * @example
 * ```ts
 * process.exitCode = await verifyCommand(['--issuer', issuer, '--audience', aud], output, () => text(process.stdin));
 * ```
 */
export const verifyCommand: StdinCommand = async (args, out, readStdin) => {
  const command = parseCommandOrHelp(args, flags, 1, verifyHelp, out);
  if (command === undefined) return exitCodes.ok;
  const { values, positionals } = command;
  if (values.issuer === undefined)
    throw new UsageError('give --issuer URL: the issuer whose tokens the server accepts');
  if (values.audience === undefined) throw new UsageError('give --audience AUD: the audience the server answers to');
  const { method, policy: policyPath } = values;
  if (method !== undefined && policyPath === undefined)
    throw new UsageError('--method needs --policy FILE: the policy that decides the call');
  if (method === undefined && policyPath !== undefined)
    throw new UsageError('--policy needs --method /pkg.Service/Method: the call to decide');
  // A call's method is one full path; a wildcard or a bare name is never one.
  if (method !== undefined && !/^\/[^/\s*]+\/[^/\s*]+$/.test(method))
    throw new UsageError('--method must be a full method path like /package.Service/Method');

  const settings = serverSettings(values);
  const policy = policyPath === undefined ? new Policy({ [anyValidToken]: [] }, []) : readPolicyFile(policyPath);
  const certificateFile = values['client-certificate'];
  const peerSha256 = certificateFile === undefined ? undefined : thumbprintOf(certificateFile);
  const token = await tokenArgument(positionals, readStdin, 'give the token as the argument, or on stdin (-)');

  const decision = await decide<Readonly<JWTPayload>>(
    {
      policy,
      authenticator: new Authenticator(settings),
      maxTokenBytes: settings.maxTokenBytes,
      authorize: undefined,
      certificateBinding: settings.certificateBinding,
      dpopBinding: settings.dpopBinding,
      clock: settings.clock,
    },
    {
      method: method ?? anyValidToken,
      authorization: () => [`Bearer ${token}`],
      peerCertificateSha256: () => peerSha256,
      // No call, so no DPoP proof: a DPoP-bound token is refused dpop_missing, as a server would without one.
      dpopProofs: () => [],
      authority: () => undefined,
      authorizeRequest: (claims) => claims,
    },
  );
  const outcome = {
    decision,
    method,
    expected: { issuer: values.issuer, audience: values.audience },
    // Decoded (never verified) only to show what a refused token claims, beside what was expected.
    unverified: decision.claims === undefined && !decision.isPublic ? jwtReport(token) : undefined,
  };
  out.stdout(values.json ? `${JSON.stringify(verifyReport(outcome))}\n` : `${verifyLines(outcome).join('\n')}\n`);
  return decision.denial === undefined ? exitCodes.ok : exitCodes.failed;
};

/** RFC 8705's `x5t#S256` of the first certificate in the PEM file `path`. */
function thumbprintOf(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--client-certificate ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    return createHash('sha256').update(new X509Certificate(text).raw).digest('base64url');
  } catch {
    throw new UsageError(`--client-certificate ${path} holds no PEM certificate`);
  }
}

/** The flags as the server's options, checked by the server's own `resolveOptions`. */
function serverSettings(values: {
  issuer?: string;
  audience?: string[];
  'jwks-uri'?: string;
  algorithm?: string[];
  'clock-tolerance'?: string;
  'require-at-jwt'?: boolean;
  'allow-insecure-requests'?: boolean;
}): ResolvedOptions {
  const tolerance = values['clock-tolerance'];
  if (tolerance !== undefined && !/^\d+(?:\.\d+)?$/.test(tolerance))
    throw new UsageError('--clock-tolerance must be a number of seconds');
  try {
    return resolveOptions(
      {
        issuer: values.issuer,
        audience: values.audience,
        jwksUri: values['jwks-uri'],
        algorithms: values.algorithm,
        clockToleranceSec: tolerance === undefined ? undefined : Number(tolerance),
        requireAtJwt: values['require-at-jwt'],
        allowInsecureRequests: values['allow-insecure-requests'],
      },
      where,
    );
  } catch (error) {
    if (!(error instanceof AuthConfigError)) throw error;
    // The CLI puts "grpc-oauth2 verify: " before every usage message already.
    const message = error.message.startsWith(`${where}: `) ? error.message.slice(where.length + 2) : error.message;
    throw new UsageError(`${message} (each flag sets the server option named beside it below)`);
  }
}
