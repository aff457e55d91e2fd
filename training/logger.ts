/**
 * SB3's logger (`common/logger.py`): values are recorded during an iteration, then `dump()` closes
 * the row and hands it, with the rows before it, to every writer — the CSV file and the console
 * line today; a TensorBoard or JSONL writer would plug in the same way.
 */
import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from './run-io.js';

export type MetricRow = Record<string, number | string | null>;

export interface LogWriter {
  write(row: MetricRow, history: readonly MetricRow[]): void;
}

export class Logger {
  private current: MetricRow = {};

  /** `history`: rows of earlier iterations (a resumed run's), kept and written again. */
  constructor(
    private readonly writers: readonly LogWriter[],
    readonly history: MetricRow[] = [],
  ) {}

  record(key: string, value: number | string | null): void {
    this.current[key] = value;
  }

  recordAll(values: MetricRow): void {
    Object.assign(this.current, values);
  }

  /** Closes the row: non-finite numbers become null (an ungraded env's score), then every writer gets it. */
  dump(): MetricRow {
    const row = sanitize(this.current);
    this.current = {};
    this.history.push(row);
    for (const w of this.writers) w.write(row, this.history);
    return row;
  }
}

/** Non-finite numbers become null, so CSV and JSON stay well-formed. */
export function sanitize(row: MetricRow): MetricRow {
  for (const [k, v] of Object.entries(row)) if (typeof v === 'number' && !Number.isFinite(v)) row[k] = null;
  return row;
}

/** The whole history as CSV (columns of the latest row), rewritten atomically at every dump. */
export function csvWriter(path: string): LogWriter {
  return {
    write(row, history) {
      writeFileAtomic(path, stringify([...history], { header: true, columns: Object.keys(row) }));
    },
  };
}

/** One console line per row. */
export function consoleWriter(log: (line: string) => void, format: (row: MetricRow) => string): LogWriter {
  return { write: (row) => log(format(row)) };
}

/** A number with `digits` decimals, or n/a. */
export function fmt(x: number | string | null | undefined, digits = 2): string {
  return typeof x === 'number' ? x.toFixed(digits) : 'n/a';
}
