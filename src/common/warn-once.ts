const warned = new Set<string>();

/**
 * Emits a process warning once per `code` per process: a process creating many clients with the same
 * risky setting (an insecure channel, unverified TLS) is told once, not once per client.
 *
 * @internal
 * @example
 * ```ts
 * warnOnce('GRPC_OAUTH2_INSECURE_CHANNEL', 'InsecureChannelWarning', 'tokens will be sent in PLAINTEXT');
 * ```
 */
export function warnOnce(code: string, type: string, message: string): void {
  if (warned.has(code)) return;
  warned.add(code);
  process.emitWarning(message, { type, code });
}
