import { InterceptingCall, Metadata, status, type Interceptor, type StatusObject } from '@grpc/grpc-js';
import { checkFunction, checkOptionNames } from '../../common/option-checks.js';
import { callCredentialsFrom } from '../call-credentials.js';
import { AuthConfigError } from '../../common/config-error.js';
import { escapeControlCharacters } from '../../common/printable.js';
import { redactSecrets, secretForms } from '../../common/redact.js';
import { redactCredentials, redactedValues, showMetadata } from './metadata-view.js';

/** What each line of the metadata logger is about, as fields a structured logger can keep. */
export interface MetadataLogFields {
  /** `'metadata'`: the call's outgoing metadata, as sent; `'status'`: how the call ended. */
  readonly event: 'metadata' | 'status';
  /** The full method path, `/pkg.Service/Method`. */
  readonly method: string;
  /** For `'metadata'`: every key and its values as shown (secrets redacted; see docs/troubleshooting.md). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** For `'status'`: the status code, its name and details. */
  readonly code?: status;
  readonly codeName?: string;
  readonly details?: string;
}

/** Options of {@link createMetadataLogger}. */
export interface MetadataLoggerOptions {
  /** Receives each line (text for a person) and its fields. Required. If it throws, the error is dropped. */
  log: (line: string, fields: MetadataLogFields) => void;
}

const loggerOptionNames = ['log'] as const;

/**
 * A grpc-js client interceptor that logs, for every call of every type, its method and outgoing
 * metadata (one `'metadata'` line, once the metadata is final) and its final status (one
 * `'status'` line). `authorization` shows as scheme, token length, expiry and scopes (decoded, not
 * verified), never the token; other secret-looking values are redacted (docs/troubleshooting.md).
 * The status details are the server's text: anything it echoes of what the logger redacted (the token,
 * in any form it travels in) and anything credential-shaped is redacted, and control characters are
 * escaped (`\r` shows as `\\r`), so a server cannot write a line of its own into your log.
 *
 * Put it after {@link createAuthInterceptor} in `interceptors`, so it sees the header that
 * interceptor attaches, also when the token is attached by per-call credentials (the first call, or
 * one that waited for a refresh); a replayed call then shows as two calls. Headers added by channel
 * credentials (`createChannelCredentials`) are added by grpc-js below every interceptor and are not seen.
 *
 * @throws AuthConfigError when `log` is missing or not a function, or for an unknown option.
 * @example
 * ```ts
 * const logger = createMetadataLogger({ log: (line) => console.error(line) });
 * const client = new OrdersClient(address, tls, { interceptors: [createAuthInterceptor(tokens, { channelCredentials: tls }), logger] });
 * // → /orders.v1.Orders/GetOrder authorization=Bearer [redacted: 812 chars; expires in 3599 s (...); scopes orders.read]
 * // ← /orders.v1.Orders/GetOrder OK
 * ```
 */
export function createMetadataLogger(options: MetadataLoggerOptions): Interceptor {
  checkOptionNames(options, loggerOptionNames, 'createMetadataLogger option');
  const log = checkFunction<MetadataLoggerOptions['log']>(options?.log, 'createMetadataLogger: log');
  if (log === undefined)
    throw new AuthConfigError('createMetadataLogger: log is required, a function (line, fields) => void');
  const write = (line: string, fields: MetadataLogFields): void => {
    try {
      log(line, fields);
    } catch {
      // A logger's bug must not break the call it logs.
    }
  };

  return (callOptions, nextCall) => {
    const method = callOptions.method_definition.path;
    // Every form of every value the metadata lines redacted (the token first): a server that echoes one
    // in its status details gets it redacted there too.
    let sentSecrets: readonly string[] = [];
    const logMetadata = (metadata: Metadata): void => {
      const shown = showMetadata(metadata);
      sentSecrets = redactedValues(metadata, shown).flatMap((value) => secretForms(value));
      const text = Object.entries(shown)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ');
      write(`→ ${method} ${text || '(no metadata)'}`, { event: 'metadata', method, metadata: shown });
    };
    const callerCredentials = callOptions.credentials;
    let started: Metadata | undefined;
    // Per-call credentials add their metadata after every interceptor has run: wrap them to see it.
    const credentials =
      callerCredentials === undefined
        ? undefined
        : callCredentialsFrom(async (params) => {
            const added = await callerCredentials.generateMetadata(params);
            const all = started?.clone() ?? new Metadata();
            all.merge(added);
            logMetadata(all);
            return added;
          });
    const call = nextCall(credentials === undefined ? callOptions : { ...callOptions, credentials });
    return new InterceptingCall(call, {
      start(metadata, listener, next) {
        started = metadata;
        if (credentials === undefined) logMetadata(metadata);
        next(metadata, {
          onReceiveStatus(callStatus: StatusObject, nextStatus: (callStatus: StatusObject) => void) {
            const codeName = status[callStatus.code] ?? String(callStatus.code);
            const details = escapeControlCharacters(redactCredentials(redactSecrets(callStatus.details, sentSecrets)));
            write(
              `← ${method} ${codeName}${callStatus.code === status.OK ? '' : ` (${callStatus.code}): ${details}`}`,
              {
                event: 'status',
                method,
                code: callStatus.code,
                codeName,
                details,
              },
            );
            nextStatus(callStatus);
          },
        });
      },
    });
  };
}
