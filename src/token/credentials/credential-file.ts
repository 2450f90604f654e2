import { readFile } from 'node:fs/promises';
import { configError } from './errors.js';

/**
 * A secret kept in a file (a client secret, a private key, a whole key file), read on first use and
 * read again on request so that a rotated secret is picked up without a restart.
 */
export class CredentialFile {
  readonly #path: string;
  readonly #what: string;
  #content: string | undefined;

  /** @param what - names the option, for error messages. */
  constructor(path: string, what: string) {
    this.#path = path;
    this.#what = what;
  }

  /** The file's content, read once and then cached. */
  async read(): Promise<string> {
    this.#content ??= await this.#load();
    return this.#content;
  }

  /**
   * Reads the file again; resolves `true` when its content changed, or when it could not be read
   * before (a secret mounted after the process started).
   */
  async reload(): Promise<boolean> {
    const previous = this.#content;
    this.#content = await this.#load();
    return previous !== this.#content;
  }

  async #load(): Promise<string> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
      throw configError(`${this.#what} ${this.#path} could not be read (${code})`);
    }
    const trimmed = text.trim();
    if (trimmed === '') throw configError(`${this.#what} ${this.#path} is empty`);
    return trimmed;
  }
}
