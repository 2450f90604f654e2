/**
 * Removes every known secret from text that came from outside (an error description a token server
 * sent, a library's message): a misbehaving server may echo what it was sent.
 */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** A URL as safe to print: no user info, query or fragment. */
export function describeEndpoint(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
