// The results table, as printed by `npm run bench` and pasted into docs/performance.md.
import type { Figure } from './figure.js';
import type { Summary } from './stats.js';

/** `median (min–max)`, or just the value when every round measured the same. */
export function formatSummary(summary: Summary, digits: number): string {
  const f = (value: number): string => formatNumber(value, digits);
  return summary.min === summary.max ? f(summary.median) : `${f(summary.median)} (${f(summary.min)}–${f(summary.max)})`;
}

function formatNumber(value: number, digits: number): string {
  if (!Number.isFinite(value)) return String(value);
  // Whole numbers (counts) print as such; others keep their digits, so 0.004 MB shows as 0.00, not 0.
  return value.toLocaleString('en-US', {
    maximumFractionDigits: digits,
    minimumFractionDigits: Number.isInteger(value) ? 0 : digits,
  });
}

/** Digits worth showing for values around `magnitude`. */
function digitsFor(magnitude: number): number {
  const abs = Math.abs(magnitude);
  if (abs >= 100) return 0;
  if (abs >= 10) return 1;
  return 2;
}

const headers = ['id', 'figure', 'unit', 'ours', 'reference', 'ours / reference', 'rounds', 'goal', 'met'] as const;

function row(figure: Figure): string[] {
  const digits = digitsFor(figure.ours.median);
  return [
    figure.id,
    figure.title,
    figure.unit,
    formatSummary(figure.ours, digits),
    figure.reference
      ? `${figure.reference.label}: ${formatSummary(figure.reference.value, digitsFor(figure.reference.value.median))}`
      : '',
    figure.ratio ? formatSummary(figure.ratio, 3) : '',
    String(figure.rounds),
    figure.goal ?? '',
    figure.met === undefined ? '' : figure.met ? 'yes' : 'NO',
  ];
}

/** A Markdown table: readable in a terminal and pasteable into docs as is. */
export function markdownTable(figures: readonly Figure[]): string {
  const rows = [headers.slice(), ...figures.map(row)];
  const widths = headers.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), line(widths.map((width) => '-'.repeat(width))), ...rows.slice(1).map(line)].join('\n');
}
