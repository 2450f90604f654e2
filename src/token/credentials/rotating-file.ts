import { readFile, stat } from 'node:fs/promises';
import { TokenError } from '../errors.js';

/** Settings of {@link RotatingFile}. */
export interface RotatingFileSettings {
  /** Names the option or file in messages, e.g. `'clientAssertionFile'`. */
  readonly what: string;
  /**
   * Whether a missing, unreadable or empty file is worth trying again soon (a token file its writer
   * has not written yet), rather than a configuration to fix. Default `false`.
   */
  readonly retryable?: boolean;
}

/**
 * A file that another party rewrites while we run: a Kubernetes projected service-account token, a
 * SPIFFE JWT-SVID, a sidecar's access token. Each {@link RotatingFile.read} looks at the file's
 * metadata and reads it again when it changed: platforms rotate these files long before the old
 * content expires, and a process that read it once fails an hour later. The kubelet swaps a symlink,
 * so `stat` (which follows it) sees a new inode. Errors name the file and never its content.
 */
export class RotatingFile {
  readonly path: string;
  readonly #settings: RotatingFileSettings;
  #content: string | undefined;
  /** inode, size and mtime of the file when `#content` was read. */
  #signature: string | undefined;

  constructor(path: string, settings: RotatingFileSettings) {
    this.path = path;
    this.#settings = settings;
  }

  /** The file's content (trimmed), read again when its metadata changed since the last read. */
  async read(): Promise<string> {
    const signature = await this.#stat();
    if (this.#content === undefined || signature !== this.#signature) await this.#load(signature);
    return this.#content!;
  }

  /**
   * Reads the file now, whatever its metadata says (a rewrite within one mtime tick keeps them);
   * resolves `true` when the content changed or could not be read before.
   */
  async reload(): Promise<boolean> {
    const previous = this.#content;
    await this.#load(await this.#stat());
    return previous !== this.#content;
  }

  async #stat(): Promise<string> {
    try {
      const info = await stat(this.path, { bigint: true });
      return `${info.ino}:${info.size}:${info.mtimeNs}`;
    } catch (err) {
      throw this.#unreadable(err);
    }
  }

  async #load(signature: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw this.#unreadable(err);
    }
    const trimmed = text.trim();
    if (trimmed === '') throw this.error(`is empty`);
    this.#content = trimmed;
    this.#signature = signature;
  }

  #unreadable(err: unknown): TokenError {
    return this.error(`could not be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }

  /** A `config` TokenError about this file: `<what> <path> <problem>`. */
  error(problem: string, retryable = this.#settings.retryable ?? false): TokenError {
    return new TokenError('config', `${this.#settings.what} ${this.path} ${problem}`, { retryable });
  }
}
