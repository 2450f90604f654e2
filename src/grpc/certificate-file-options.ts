// The options the mutual TLS factories share (the channel's and the server's): the three files, how
// often they are re-read and the clock, checked the same way, and the provider that watches them.
import type { Clock } from '../common/clock.js';
import { AuthConfigError } from '../common/config-error.js';
import { checkClock, checkNonEmptyString, checkNumber, checkOptionNames } from '../common/option-checks.js';
import { WatchedCertificates } from './watched-certificates.js';

/**
 * The options of the mutual TLS credentials factories that say how their files are re-read; each
 * factory's own options add `certFile`, `keyFile` and `caFile`, documented for its side.
 *
 * @example
 * ```ts
 * const refresh: CertificateRefreshOptions = { refreshIntervalMs: 60_000 };
 * ```
 */
export interface CertificateRefreshOptions {
  /**
   * How often the files are re-read, in milliseconds; a changed, complete and matching set is used by
   * new connections from then on. Default 60_000 (one minute); from 100 to 86_400_000.
   */
  refreshIntervalMs?: number;
  /** Where time comes from (the re-read timer, the expiry check); inject a manual clock in tests. Default: the system clock. */
  clock?: Clock;
}

/** The three files (this side's certificate, its key, the CA that verifies the other side) and their refresh. */
type CertificateFileOptions = CertificateRefreshOptions & { certFile: string; keyFile: string; caFile: string };

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
  const clock = checkClock(options.clock, `${caller}: clock`);
  return new WatchedCertificates(files, refreshIntervalMs, clock, caller);
}
