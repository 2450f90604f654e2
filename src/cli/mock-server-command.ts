import { MockTokenServer } from '../testing/mock-token-server/server.js';
import { defaultTokenAudience } from '../testing/mock-token-server/token-issuer.js';
import type { MockClient } from '../testing/mock-token-server/types.js';
import { exitCodes, parseCommandOrHelp, UsageError, type Output } from './command-line.js';

/** `grpc-oauth2 mock-server --help`. */
export const mockServerHelp = `Usage: grpc-oauth2 mock-server --client ID:SECRET[:SCOPE,SCOPE] [--port N] [--lifetime S] [--audience AUD] [--json]

Runs a MockTokenServer (the SDK's testing kit) on 127.0.0.1 for manual tests: discovery, a
client-credentials token endpoint and a JWKS, issuing signed JWT access tokens. Prints its issuer
URL, then serves until SIGINT (Ctrl-C) or SIGTERM. For test clients only: a --client secret is on
the command line, where ps shows it.

Flags:
  --client ID:SECRET[:SCOPES]  a client and the scopes it may get (comma-separated; default any); repeatable
  --port N                     port on 127.0.0.1 (default: a free one)
  --lifetime S                 token lifetime in seconds (default 3600)
  --audience AUD               aud of tokens whose request names no audience or resource
                               (default https://api.example.test)
  --json                       print the URLs as one JSON line
  --help                       this text

Exit codes: 0 stopped by a signal, 1 could not start (port in use), 2 usage.
`;

const flags = {
  client: { type: 'string', multiple: true },
  port: { type: 'string' },
  lifetime: { type: 'string' },
  audience: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/**
 * `grpc-oauth2 mock-server`: serve until `stop` resolves (the CLI passes SIGINT/SIGTERM).
 *
 * @param stop - resolves when the server should close.
 * @returns the exit code.
 * @example
 * ```ts
 * process.exitCode = await mockServerCommand(['--client', 'svc:test-secret'], output, untilSignal());
 * ```
 */
export async function mockServerCommand(args: readonly string[], out: Output, stop: Promise<unknown>): Promise<number> {
  const command = parseCommandOrHelp(args, flags, 0, mockServerHelp, out);
  if (command === undefined) return exitCodes.ok;
  const { values } = command;
  const clients = (values.client ?? []).map(parseClient);
  if (clients.length === 0) throw new UsageError('give at least one --client ID:SECRET[:SCOPE,SCOPE]');
  const port = values.port === undefined ? 0 : integer(values.port, '--port', 0, 65_535);
  const tokenLifetimeSec = values.lifetime === undefined ? 3600 : integer(values.lifetime, '--lifetime', 1, 31_536_000);
  if (values.audience?.trim() === '') throw new UsageError('--audience must not be empty');
  const audience = values.audience ?? defaultTokenAudience;
  let server: MockTokenServer;
  try {
    server = await MockTokenServer.start({ port, tokenLifetimeSec, audience });
  } catch (error) {
    out.stderr(
      `grpc-oauth2 mock-server: could not listen on 127.0.0.1:${port} (${(error as { code?: string }).code ?? (error as Error).name})\n`,
    );
    return exitCodes.failed;
  }
  for (const client of clients) server.addClient(client);
  const shown = clients.map(({ clientId, allowedScopes }) => ({ clientId, allowedScopes: allowedScopes ?? null }));
  if (values.json) {
    out.stdout(
      `${JSON.stringify({ issuer: server.issuer, tokenEndpoint: server.tokenEndpoint, jwksUri: server.jwksUri, audience, clients: shown })}\n`,
    );
  } else {
    const lines = [
      `issuer          ${server.issuer}`,
      `token endpoint  ${server.tokenEndpoint}`,
      `jwks            ${server.jwksUri}`,
      `audience        ${audience}`,
      ...shown.map(
        (client) =>
          `client          ${client.clientId} (scopes: ${client.allowedScopes?.join(' ') ?? 'any'}; secret not shown)`,
      ),
      'serving until SIGINT (Ctrl-C) or SIGTERM',
    ];
    out.stdout(`${lines.join('\n')}\n`);
  }
  await stop;
  await server.close();
  out.stderr('grpc-oauth2 mock-server: stopped\n');
  return exitCodes.ok;
}

function parseClient(value: string): MockClient {
  const parts = value.split(':');
  const [clientId = '', clientSecret = '', scopes] = parts;
  // More parts would be a secret or scope with ':' in it, which this form cannot tell apart: refuse, never cut.
  if (clientId === '' || clientSecret === '' || parts.length > 3) {
    throw new UsageError(
      '--client must be ID:SECRET or ID:SECRET:SCOPE,SCOPE, with no ":" inside the id, secret or scopes',
    );
  }
  const allowedScopes = scopes?.split(',').filter((scope) => scope !== '');
  return { clientId, clientSecret, allowedScopes };
}

function integer(value: string, flag: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max)
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}`);
  return number;
}
