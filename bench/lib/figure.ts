// One line of the results table, as printed and as written to bench/results.json.
import type { Summary } from './stats.js';

export interface Figure {
  /** A short stable name, `<what is measured>.<variant>`: `unary.interceptor`, `cpu.channel`, ... */
  readonly id: string;
  readonly title: string;
  /** Unit of `ours` and `reference`. */
  readonly unit: string;
  /** Our measurements over the rounds. */
  readonly ours: Summary;
  /** What ours is compared with, measured in the same rounds. */
  readonly reference?: { readonly label: string; readonly value: Summary };
  /** Per-round `ours / reference`. */
  readonly ratio?: Summary;
  readonly rounds: number;
  /** The goal the figure is held to; absent for figures that explain another. */
  readonly goal?: string;
  /** Whether the goal is met (by the median, for figures measured in rounds). */
  readonly met?: boolean;
  /** How the figure was measured, where the title cannot say it. */
  readonly note?: string;
}
