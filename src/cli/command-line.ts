import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestName } from '../common/option-checks.js';

/** Exit codes of `grpc-oauth2`: 0 ok, 1 the operation failed, 2 usage (bad flags or settings). */
export const exitCodes = { ok: 0, failed: 1, usage: 2 } as const;

/** A mistake in how the command was called; exits 2. Its message never holds a flag's value. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Where a command writes: stdout for its result, stderr for messages. */
export interface Output {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/**
 * A command that may read a token from stdin: its arguments after the command's name, where it
 * writes, and what reads all of stdin (the CLI passes one; tests may too). Resolves to the exit code.
 */
export type StdinCommand = (args: readonly string[], out: Output, readStdin: () => Promise<string>) => Promise<number>;

/**
 * Flags that would carry a secret on the command line, where `ps` and shell history show it, and
 * where to put that secret instead.
 */
const secretFlags: Readonly<Record<string, string>> = {
  '--client-secret': 'set OAUTH2_CLIENT_SECRET, or use --client-secret-file',
  '--private-key': 'use --private-key-file (or OAUTH2_PRIVATE_KEY_FILE)',
  '--client-assertion': 'use --client-assertion-file (or OAUTH2_CLIENT_ASSERTION_FILE)',
  '--token': 'pipe it on stdin: grpc-oauth2 inspect - < token.txt (verify takes - the same way)',
};

type Options = NonNullable<ParseArgsConfig['options']>;
/** What `parseArgs` gives for `options`, strict, with positionals. */
export type ParsedCommandLine<T extends Options> = ReturnType<
  typeof parseArgs<{ options: T; strict: true; allowPositionals: true }>
>;

/**
 * `args` parsed by node's `util.parseArgs` (strict: unknown flags and missing values fail), with
 * errors as {@link UsageError}s that name the flag and never echo a value: a mistyped positional
 * argument may be a secret. A flag meant for a secret is refused with where to put it instead.
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommandLine(['--json'], { json: { type: 'boolean' } }, 0);
 * ```
 */
export function parseCommandLine<T extends Options>(
  args: readonly string[],
  options: T,
  maxPositionals: number,
): ParsedCommandLine<T> {
  for (const arg of args) {
    const name = arg.split('=')[0] ?? '';
    const instead = secretFlags[name];
    if (instead !== undefined)
      throw new UsageError(
        `${name} is not accepted: a secret on the command line shows in ps and shell history; ${instead}`,
      );
  }
  let parsed: ParsedCommandLine<T>;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new UsageError(`${(error as Error).message}${flagSuggestion(args, options)}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError((error as Error).message);
    throw new UsageError('could not read the arguments');
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(
      maxPositionals === 0
        ? 'this command takes no arguments besides flags'
        : `this command takes at most ${maxPositionals} argument`,
    );
  }
  return parsed;
}

/**
 * `args` parsed as {@link parseCommandLine} does, or `undefined` once the command's `help` was printed
 * for `--help` (the command then exits 0).
 *
 * @example
 * ```ts
 * const command = parseCommandOrHelp(args, flags, 0, tokenHelp, out);
 * if (command === undefined) return exitCodes.ok;
 * ```
 */
export function parseCommandOrHelp<T extends Options>(
  args: readonly string[],
  options: T,
  maxPositionals: number,
  help: string,
  out: Output,
): ParsedCommandLine<T> | undefined {
  const parsed = parseCommandLine(args, options, maxPositionals);
  if ((parsed.values as { help?: unknown }).help !== true) return parsed;
  out.stdout(help);
  return undefined;
}

/**
 * The token (or JWT) a command was given: its one argument, or all of stdin when that is `-` or
 * absent; trimmed, a leading `Bearer ` dropped. An argument shows in `ps` and shell history, which
 * is why stdin is the default.
 *
 * @param missing - the usage message when there is nothing.
 * @throws UsageError when the argument or stdin is empty.
 * @example
 * ```ts
 * const token = await tokenArgument(positionals, () => text(process.stdin), 'give a JWT as the argument, or on stdin');
 * ```
 */
export async function tokenArgument(
  positionals: readonly string[],
  readStdin: () => Promise<string>,
  missing: string,
): Promise<string> {
  const [argument = '-'] = positionals;
  const token = (argument === '-' ? await readStdin() : argument).trim().replace(/^bearer\s+/i, '');
  if (token === '') throw new UsageError(missing);
  return token;
}

/**
 * `; did you mean "--audience"?` for the first unknown long flag in `args` when a known one is close
 * (only the flag's name is looked at, never its value), else `''`.
 */
function flagSuggestion(args: readonly string[], options: Options): string {
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  const known = Object.keys(options);
  const unknown = tokens.find((token) => token.kind === 'option' && !known.includes(token.name));
  if (unknown?.kind !== 'option' || !unknown.rawName.startsWith('--')) return '';
  const suggestion = closestName(unknown.name, known);
  return suggestion === undefined ? '' : `; did you mean "--${suggestion}"?`;
}

/**
 * `; did you mean "token"?` when `command` is close to one of `commands`, else `''`. The command itself
 * is not echoed: a mistyped first argument may be a secret.
 *
 * @example
 * ```ts
 * commandSuggestion('tokn', ['token', 'inspect', 'mock-server']); // '; did you mean "token"?'
 * ```
 */
export function commandSuggestion(command: string, commands: readonly string[]): string {
  const suggestion = closestName(command, commands);
  return suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
}

/**
 * A duration from now for a person: `in 59 min 58 s`, `3 min 2 s ago`, `now` (within half a second).
 *
 * @example
 * ```ts
 * fromNow(Date.now() + 3_598_000); // 'in 59 min 58 s'
 * ```
 */
export function fromNow(atMs: number, nowMs = Date.now()): string {
  const seconds = Math.round((atMs - nowMs) / 1000);
  if (seconds === 0) return 'now';
  const abs = Math.abs(seconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  const text = [h > 0 ? `${h} h` : '', m > 0 ? `${m} min` : '', `${s} s`].filter(Boolean).join(' ');
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}
