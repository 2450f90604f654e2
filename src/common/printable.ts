/**
 * Text from outside (a server's status details, a token's claims) made fit for one line of a log:
 * every C0 and C1 control character and DEL becomes a visible escape (`\r` → `\\r`, `\n` → `\\n`,
 * `\t` → `\\t`, ESC → `\\x1b`), and so do the Unicode line and paragraph separators and the
 * bidirectional embeddings, overrides and isolates (`\\u2028`, `\\u202e`). A server can then neither
 * start a line of its own in a log (a forged entry), nor move the cursor or recolour a terminal, nor
 * make a line read in another order than it is written. Hand-written: a regular expression and a
 * table of three names do not justify a dependency.
 *
 * @example
 * ```ts
 * escapeControlCharacters('denied\r\nok\u001b[2J'); // 'denied\\r\\nok\\x1b[2J'
 * ```
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(unprintable, (character) => {
    const named = namedEscapes[character];
    if (named !== undefined) return named;
    const code = character.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

// eslint-disable-next-line no-control-regex -- control characters are what this finds
const unprintable = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const namedEscapes: Readonly<Record<string, string>> = { '\r': '\\r', '\n': '\\n', '\t': '\\t' };
