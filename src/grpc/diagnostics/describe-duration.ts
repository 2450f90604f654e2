/**
 * A duration as a person reads it: `41 minutes`, `30 seconds`, `2 hours` (with `more`: `41 more
 * minutes`); `an unknown time` for `undefined`. Rounded down to the unit shown.
 *
 * @internal
 * @example
 * ```ts
 * describeDuration(41 * 60_000 + 20_000); // '41 minutes'
 * ```
 */
export function describeDuration(ms: number | undefined, more = false): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'an unknown time';
  const seconds = Math.floor(Math.abs(ms) / 1000);
  const [amount, unit] =
    seconds >= 7200
      ? [Math.floor(seconds / 3600), 'hour']
      : seconds >= 120
        ? [Math.floor(seconds / 60), 'minute']
        : [seconds, 'second'];
  return `${amount} ${more ? 'more ' : ''}${unit}${amount === 1 ? '' : 's'}`;
}
