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
