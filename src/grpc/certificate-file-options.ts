// The options the mutual TLS factories share (the channel's and the server's): the three files, how
// often they are re-read and the clock, checked the same way, and the provider that watches them.
import { systemClock, type Clock } from '../common/clock.js';
import { AuthConfigError } from '../common/config-error.js';
import { describeType } from '../common/describe.js';
import { checkNonEmptyString, checkNumber, checkOptionNames } from '../common/option-checks.js';
import { WatchedCertificates } from './watched-certificates.js';

/**
 * The options of the mutual TLS credentials factories that name their files and their refresh.
 *
 * @example
 * ```ts
 * const files: CertificateFileOptions = { certFile: '/etc/tls/tls.crt', keyFile: '/etc/tls/tls.key', caFile: '/etc/tls/ca.crt' };
 * ```
 */
export interface CertificateFileOptions {
  /** Path of this side's own certificate (chain), PEM: the client's for a channel, the server's for a server. Required. */
  certFile: string;
  /** Path of its private key, PEM. Required. Never printed. */
  keyFile: string;
  /** Path of the CA certificate(s) that verify the other side, PEM. Required. */
  caFile: string;
  /**
   * How often the files are re-read, in milliseconds; a changed, complete and matching set is used by
   * new connections from then on. Default 60_000 (one minute); from 100 to 86_400_000.
   */
  refreshIntervalMs?: number;
  /** Where time comes from (the re-read timer, the expiry check); inject a manual clock in tests. Default: the system clock. */
  clock?: Clock;
}

const sharedNames: readonly (keyof CertificateFileOptions)[] = [
  'certFile',
  'keyFile',
  'caFile',
  'refreshIntervalMs',
  'clock',
];

/**
 * Checks the shared options (and that `options` has no name outside them and `ownNames`), reads the
 * files and starts watching them.
 *
 * @param caller - the factory's name, which starts every message.
 * @throws AuthConfigError naming the option or the file (see {@link WatchedCertificates}).
 */
export function watchCertificateFiles(
  options: CertificateFileOptions | undefined,
  caller: string,
  ownNames: readonly string[] = [],
): WatchedCertificates {
  checkOptionNames(options, [...sharedNames, ...ownNames], `${caller} option`);
  if (options === undefined) throw new AuthConfigError(`${caller}: options { certFile, keyFile, caFile } are required`);
  const files = {
    certFile: checkNonEmptyString(options.certFile, `${caller}: certFile`),
    keyFile: checkNonEmptyString(options.keyFile, `${caller}: keyFile`),
    caFile: checkNonEmptyString(options.caFile, `${caller}: caFile`),
  };
  const refreshIntervalMs = checkNumber(options.refreshIntervalMs, `${caller}: refreshIntervalMs`, 60_000, {
    min: 100,
    max: 86_400_000,
    integer: true,
  });
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function')
    throw new AuthConfigError(`${caller}: clock must have now() and setTimeout(), not ${describeType(options.clock)}`);
  return new WatchedCertificates(files, refreshIntervalMs, clock, caller);
}
