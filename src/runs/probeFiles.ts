import fs from 'node:fs';
import path from 'node:path';
import { appendJsonLine, truncateJsonLines, writeFileAtomic } from './jsonFiles.ts';
import { lengthByStepFile, probeFile } from './paths.ts';
import type { ProbeMeta } from './records.ts';

/** One probe's outcome, as `runProbes` returns it. */
export interface ProbeRunFile {
  name: string;
  result: object;
  seconds: number;
  problems: number;
  decoded: number;
}

/** Writes `<runDir>/probes[/step-<S>]/<name>.json`; returns the file written. */
export function writeProbeRun(runDir: string, run: ProbeRunFile, meta: { step: number | null; checkpoint: boolean }): string {
  const file = probeFile(runDir, run.name, meta.checkpoint ? meta.step : null);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const body = {
    ...run.result,
    step: meta.step,
    seconds: Number(run.seconds.toFixed(3)),
    problems: run.problems,
    decoded: run.decoded,
  } satisfies ProbeMeta;
  writeFileAtomic(file, probeJson(body));
  return file;
}

/**
 * Appends one line to `probes/length-by-step.jsonl`. Lines at or past its step are dropped first: after a resume
 * they came from the interrupted attempt and are recomputed.
 */
export function appendLengthAtStep(runDir: string, line: { step: number }): void {
  const file = lengthByStepFile(runDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  truncateJsonLines(file, line.step - 1);
  appendJsonLine(file, line);
}

/** Indented JSON, with arrays of plain values on one line, so attention matrices read as rows. */
export function probeJson(value: unknown): string {
  const write = (node: unknown, indent: string): string => {
    if (node === null || typeof node !== 'object') return JSON.stringify(node) ?? 'null';
    const inner = indent + '  ';
    if (Array.isArray(node)) {
      if (node.every((item) => item === null || typeof item !== 'object'))
        return `[${node.map((item) => JSON.stringify(item)).join(', ')}]`;
      return node.length === 0 ? '[]' : `[\n${node.map((item) => inner + write(item, inner)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(node).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${write(v, inner)}`).join(',\n')}\n${indent}}`;
  };
  return write(value, '') + '\n';
}
