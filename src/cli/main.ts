#!/usr/bin/env node
// The grpc-oauth2 command: token, inspect, verify, mock-server. Exit codes: 0 ok, 1 failed, 2 usage.
import { text } from 'node:stream/consumers';
import { commandSuggestion, exitCodes, UsageError, type Output } from './command-line.js';
import { inspectCommand, inspectHelp } from './inspect-command.js';
import { mockServerCommand, mockServerHelp } from './mock-server-command.js';
import { tokenCommand, tokenHelp } from './token-command.js';
import { verifyCommand, verifyHelp } from './verify-command.js';
import { describeThrown } from '../common/describe.js';

const help = `Usage: grpc-oauth2 <command> [flags]

Commands:
  token        fetch an access token and show its claims, scopes and time left (redacted)
  inspect      decode a JWT: header, claims, exp/iat/nbf as dates (signature not verified)
  verify       verify a token as the server would: its claims, or why the server would refuse it
  mock-server  run a mock OAuth2 token server for manual tests

grpc-oauth2 <command> --help shows a command's flags. Settings come from OAUTH2_* variables
(docs/cli.md); secrets only from the environment or files, never from a flag.
Exit codes: 0 ok, 1 the operation failed, 2 usage.
`;

/** Each command's `--help`, shown after a usage error. */
const helps: Readonly<Record<string, string>> = {
  token: tokenHelp,
  inspect: inspectHelp,
  verify: verifyHelp,
  'mock-server': mockServerHelp,
};
const commands = Object.keys(helps);

const output: Output = {
  stdout: (chunk) => void process.stdout.write(chunk),
  stderr: (chunk) => void process.stderr.write(chunk),
};

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

async function run(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'token':
        return await tokenCommand(rest, output);
      case 'inspect':
        return await inspectCommand(rest, output, () => text(process.stdin));
      case 'verify':
        return await verifyCommand(rest, output, () => text(process.stdin));
      case 'mock-server':
        return await mockServerCommand(rest, output, untilSignal());
      case '--help':
      case '-h':
      case 'help':
        output.stdout(help);
        return exitCodes.ok;
      default:
        throw new UsageError(
          command === undefined
            ? 'give a command'
            : `unknown command (${commands.join(', ')})${commandSuggestion(command, commands)}`,
        );
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const commandHelp = command !== undefined && Object.hasOwn(helps, command) ? helps[command] : undefined;
    output.stderr(
      `grpc-oauth2${commandHelp === undefined ? '' : ` ${command}`}: ${error.message}\n\n${commandHelp ?? help}`,
    );
    return exitCodes.usage;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Not a TokenError or usage mistake: a bug. Its name only, since its message is not ours to vouch for.
    output.stderr(`grpc-oauth2: unexpected ${describeThrown(error)}\n`);
    process.exitCode = exitCodes.failed;
  },
);
