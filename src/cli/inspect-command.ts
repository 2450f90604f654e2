import { exitCodes, parseCommandOrHelp, tokenArgument, type StdinCommand } from './command-line.js';
import { jwtReport, reportLines } from './jwt-report.js';

/** `grpc-oauth2 inspect --help`. */
export const inspectHelp = `Usage: grpc-oauth2 inspect [JWT | -] [--json]

Decodes a JWT (an access token, a client assertion) and prints its header and claims, with exp,
iat and nbf as dates and the time left. It does NOT verify the signature: it shows what a token
claims, not that the claims are true. With - or no argument the JWT is read from stdin (better:
an argument shows in ps and shell history). A leading "Bearer " is ignored.

Flags:
  --json   print the header, claims and times as JSON
  --help   this text

Exit codes: 0 decoded, 1 not a JWT, 2 usage.
`;

const flags = { json: { type: 'boolean' }, help: { type: 'boolean' } } as const;

/**
 * `grpc-oauth2 inspect`: decode a JWT from the argument or stdin, never printing the token itself.
 *
 * @returns the exit code.
 * @example
 * ```ts
 * process.exitCode = await inspectCommand(['-'], output, () => readAll(process.stdin));
 * ```
 */
export const inspectCommand: StdinCommand = async (args, out, readStdin) => {
  const command = parseCommandOrHelp(args, flags, 1, inspectHelp, out);
  if (command === undefined) return exitCodes.ok;
  const { values, positionals } = command;
  const text = await tokenArgument(positionals, readStdin, 'give a JWT as the argument, or on stdin');
  const report = jwtReport(text);
  if (report === undefined) {
    out.stderr(
      'grpc-oauth2 inspect: not a JWT (three base64url parts, the first two JSON); an opaque token has nothing to decode\n',
    );
    return exitCodes.failed;
  }
  out.stdout(values.json ? `${JSON.stringify(report)}\n` : `${reportLines(report).join('\n')}\n`);
  return exitCodes.ok;
};
