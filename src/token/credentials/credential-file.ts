import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AuthConfigError } from '../../common/config-error.js';
import { configError } from '../errors.js';

/**
 * A secret kept in a file (a client secret, a private key, a whole key file), read on first use and
 * read again on request so that a rotated secret is picked up without a restart. A file that cannot
 * be read, or is empty, is an AuthConfigError when read at construction ({@link CredentialFile.readNow})
 * and a `config` TokenError when read while getting a token.
 */
export class CredentialFile {
  readonly #path: string;
  readonly #what: string;
  #content: string | undefined;

  /**
   * @param what - names the option, for error messages.
   * @param content - the file's content when the caller has just read it, so it is not read twice.
   */
  constructor(path: string, what: string, content?: string) {
    this.#path = path;
    this.#what = what;
    this.#content = content;
  }

  /**
   * Reads the file now, synchronously, for a constructor that must fail at once on a missing file
   * (`fromServiceAccountFile`); later reads reuse this content until {@link CredentialFile.reload}.
   */
  static readNow(path: string, what: string): { readonly file: CredentialFile; readonly content: string } {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new AuthConfigError(unreadable(what, path, err));
    }
    const content = text.trim();
    if (content === '') throw new AuthConfigError(empty(what, path));
    return { file: new CredentialFile(path, what, content), content };
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
      throw configError(unreadable(this.#what, this.#path, err));
    }
    const content = text.trim();
    if (content === '') throw configError(empty(this.#what, this.#path));
    return content;
  }
}

function unreadable(what: string, path: string, err: unknown): string {
  return `${what} ${path} could not be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`;
}

function empty(what: string, path: string): string {
  return `${what} ${path} is empty`;
}
