import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { configError } from '../errors.js';

/**
 * A secret kept in a file (a client secret, a private key, a whole key file), read on first use and
 * read again on request so that a rotated secret is picked up without a restart.
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
      throw unreadable(what, path, err);
    }
    const content = checkedContent(what, path, text);
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
      throw unreadable(this.#what, this.#path, err);
    }
    return checkedContent(this.#what, this.#path, text);
  }
}

function unreadable(what: string, path: string, err: unknown): Error {
  return configError(`${what} ${path} could not be read (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
}

function checkedContent(what: string, path: string, text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw configError(`${what} ${path} is empty`);
  return trimmed;
}
