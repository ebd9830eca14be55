import fs from 'node:fs';

/** One line of metrics.jsonl. Evaluation fields appear only on steps that evaluated. */
export interface MetricsRecord {
  step: number;
  loss: number;
  lr: number;
  tokens_per_s: number;
  grad_norm?: number;
  elapsed_s: number;
  /** Exact-match accuracy by test length (both operands n digits). */
  accuracy?: Record<string, number>;
  accuracy_in_range?: number | null;
  accuracy_beyond?: number | null;
}

export class MetricsLog {
  constructor(readonly file: string) {}

  append(record: MetricsRecord): void {
    fs.appendFileSync(this.file, JSON.stringify(record) + '\n');
  }
}

export function readMetrics(file: string): MetricsRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as MetricsRecord);
}

/**
 * Keeps the lines of metrics.jsonl up to `step` and drops the rest: on resume they are recomputed from the
 * checkpoint. A last line cut off by a killed process is dropped too; the file is replaced atomically.
 */
export function truncateMetrics(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const kept: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let record: MetricsRecord;
    try {
      record = JSON.parse(line) as MetricsRecord;
    } catch {
      continue;
    }
    if (record.step <= step) kept.push(line);
  }
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, kept.map((line) => line + '\n').join(''));
  fs.renameSync(temporary, file);
}
