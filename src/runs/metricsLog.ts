import fs from 'node:fs';
import { appendJsonLine } from './jsonFiles.ts';
import type { MetricsRecord } from './records.ts';

/** Appends metrics.jsonl lines as training logs them. */
export class MetricsLog {
  constructor(readonly file: string) {}

  append(record: MetricsRecord): void {
    appendJsonLine(this.file, record);
  }
}

/** Every line of a metrics file; a broken line throws (the report's reader skips them instead). */
export function readMetrics(file: string): MetricsRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as MetricsRecord);
}
