import { AuthConfigError } from '../common/config-error.js';
import { TokenError } from '../token/errors.js';
import type { TokenManagerOptions } from '../token/options.js';
import { TokenManager } from '../token/token-manager.js';
import { exitCodes, fromNow, parseCommandOrHelp, UsageError, type Output } from './command-line.js';
import { jwtReport, reportLines } from './jwt-report.js';

/** `grpc-oauth2 token --help`. */
export const tokenHelp = `Usage: grpc-oauth2 token [flags]

Fetches an access token with the OAUTH2_* environment (see TokenManager.fromEnv) and the flags
below, which win over it, and prints its expiry, scopes and decoded claims. The token itself is
shown only with --print-token. Secrets come from the environment or files, never from a flag.

Flags:
  --issuer URL                  authorization server to discover (OAUTH2_ISSUER)
  --token-endpoint URL          token endpoint, without discovery (OAUTH2_TOKEN_ENDPOINT)
  --client-id ID                (OAUTH2_CLIENT_ID)
  --client-secret-file PATH     file holding the client secret (OAUTH2_CLIENT_SECRET_FILE)
  --private-key-file PATH       private key for private_key_jwt (OAUTH2_PRIVATE_KEY_FILE)
  --client-assertion-file PATH  JWT client assertion, e.g. a projected service-account token (OAUTH2_CLIENT_ASSERTION_FILE)
  --scopes "A B"                space-separated; may be repeated (OAUTH2_SCOPES)
  --audience AUD                (OAUTH2_AUDIENCE)
  --resource URI                (OAUTH2_RESOURCE)
  --allow-insecure-requests     allow an http:// endpoint, for local tests (OAUTH2_ALLOW_INSECURE_REQUESTS=true)
  --print-token                 print only the token, for: grpcurl -H "authorization: Bearer $(grpc-oauth2 token --print-token)"
  --json                        print the report as JSON
  --help                        this text

Exit codes: 0 a token was fetched, 1 the token endpoint refused or failed (the message names the
OAuth error), 2 usage: a bad flag, or a missing or contradictory setting.
`;

const flags = {
  issuer: { type: 'string' },
  'token-endpoint': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'private-key-file': { type: 'string' },
  'client-assertion-file': { type: 'string' },
  scopes: { type: 'string', multiple: true },
  audience: { type: 'string' },
  resource: { type: 'string' },
  'allow-insecure-requests': { type: 'boolean' },
  'print-token': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/**
 * `grpc-oauth2 token`: fetch a token and report it (redacted), or print it alone with `--print-token`.
 *
 * @returns the exit code.
 * @example
 * ```ts
 * process.exitCode = await tokenCommand(['--json'], { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
 * ```
 */
export async function tokenCommand(args: readonly string[], out: Output): Promise<number> {
  const command = parseCommandOrHelp(args, flags, 0, tokenHelp, out);
  if (command === undefined) return exitCodes.ok;
  const { values } = command;
  if (values['print-token'] && values.json)
    throw new UsageError('--print-token prints the token alone; it does not go with --json');
  const overrides: Record<string, unknown> = {
    issuer: values.issuer,
    tokenEndpoint: values['token-endpoint'],
    clientId: values['client-id'],
    clientSecretFile: values['client-secret-file'],
    privateKeyFile: values['private-key-file'],
    clientAssertionFile: values['client-assertion-file'],
    scopes: values.scopes?.flatMap((scopes) => scopes.split(/\s+/)).filter((scope) => scope !== ''),
    audience: values.audience,
    resource: values.resource,
    allowInsecureRequests: values['allow-insecure-requests'],
  };
  for (const key of Object.keys(overrides)) if (overrides[key] === undefined) delete overrides[key];

  let tokens: TokenManager;
  try {
    // No retries: a person at a terminal wants the first failure, not a minute of backoff.
    tokens = TokenManager.fromEnv({ ...(overrides as TokenManagerOptions), retry: { retries: 0 } });
  } catch (error) {
    if (error instanceof AuthConfigError) throw new UsageError(error.message);
    throw error;
  }
  try {
    const token = await tokens.getToken();
    if (values['print-token']) {
      out.stdout(`${token.accessToken}\n`);
      return exitCodes.ok;
    }
    const now = Date.now();
    const report = jwtReport(token.accessToken, now);
    const summary = {
      tokenType: token.tokenType,
      accessToken: '[redacted]',
      length: token.accessToken.length,
      expiresAt: token.expiresAt.toISOString(),
      expiresInSeconds: Math.round((token.expiresAt.getTime() - now) / 1000),
      scopes: token.scopes,
    };
    if (values.json) {
      out.stdout(`${JSON.stringify({ ...summary, jwt: report ?? null })}\n`);
      return exitCodes.ok;
    }
    const lines = [
      `token      Bearer [redacted: ${summary.length} chars] (--print-token prints it)`,
      `expires    ${summary.expiresAt} (${fromNow(token.expiresAt.getTime(), now)})`,
      `scopes     ${token.scopes.join(' ') || '(none)'}`,
      ...(report === undefined ? ['an opaque token: no claims to show'] : reportLines(report, now)),
    ];
    out.stdout(`${lines.join('\n')}\n`);
    return exitCodes.ok;
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    if (error.code === 'config') throw new UsageError(error.message);
    out.stderr(`grpc-oauth2 token: no token (${error.code}): ${error.message}\n`);
    return exitCodes.failed;
  } finally {
    tokens.close();
  }
}
