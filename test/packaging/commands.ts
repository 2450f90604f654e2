import { spawn } from 'node:child_process';

/** What a finished command printed, and how it exited. */
export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command in `cwd` and resolves when it exits. `cleanup` is the test's `t.after` (or a suite's
 * `after`): the child is killed by its PID then if it is still running (a failed or timed-out test),
 * and after `limitMs` in any case.
 */
export function runCommand(cleanup: (fn: () => void) => void, command: string, args: readonly string[], cwd: string, limitMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } });
    cleanup(() => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${limitMs} ms:\n${stdout}\n${stderr}`));
    }, limitMs);
    proc.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The fenced code blocks of a Markdown text, with the line written just before each (its caption). */
export function codeBlocks(markdown: string): { readonly lang: string; readonly caption: string; readonly code: string }[] {
  const blocks: { lang: string; caption: string; code: string }[] = [];
  const fence = /(?:^|\n)([^\n]*)\n\n?```(\w*)\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(fence)) blocks.push({ caption: match[1] ?? '', lang: match[2] ?? '', code: match[3] ?? '' });
  return blocks;
}
