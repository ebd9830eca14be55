import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { UserError } from '../errors.ts';
import type { AttentionResult } from '../probes/attention.ts';
import type { CarriesResult } from '../probes/carries.ts';
import type { DigitsResult } from '../probes/digits.ts';
import type { LengthAtStep } from '../probes/duringTraining.ts';
import type { ErrorsResult } from '../probes/errors.ts';
import type { LengthResult } from '../probes/length.ts';
import type { LinearResult } from '../probes/linear.ts';
import type { ReadoutResult } from '../probes/readout.ts';
import { readJson, readJsonLines } from '../runs/jsonFiles.ts';
import {
  CONFIG_FILE,
  LENGTH_BY_STEP_FILE,
  lengthByStepFile,
  METRICS_FILE,
  metricsFile,
  PROBES_DIR,
  probeFile,
  RUN_FILE,
} from '../runs/paths.ts';
import type { MetricsRecord, ProbeMeta, RunInfo } from '../runs/records.ts';
import { isRunDir } from '../runs/runDirectory.ts';

export interface RunProbes {
  length?: LengthResult & ProbeMeta;
  digits?: DigitsResult & ProbeMeta;
  carries?: CarriesResult & ProbeMeta;
  errors?: ErrorsResult & ProbeMeta;
  attention?: AttentionResult & ProbeMeta;
  linear?: LinearResult & ProbeMeta;
  readout?: ReadoutResult & ProbeMeta;
}

export const PROBE_FILES = ['length', 'digits', 'carries', 'errors', 'attention', 'linear', 'readout'] as const;

/**
 * Everything the report draws from one run directory, as plain data. Every part is optional: a run in
 * progress has some of it, a run never probed has no probes, and the report says what is missing.
 */
export interface RunData {
  dir: string;
  /** The directory's base name, e.g. `addition-nope-20261126-101500`. */
  name: string;
  /** config.yaml as written (the resolved config), read as plain YAML so older runs still load. */
  config: Record<string, unknown> | null;
  info: RunInfo | null;
  metrics: MetricsRecord[];
  probes: RunProbes;
  lengthByStep: LengthAtStep[];
  /** Files that were missing or unreadable, one readable line each. */
  notes: string[];
}

function readJsonFile<T>(file: string, notes: string[], label: string): T | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return readJson<T>(file);
  } catch (error) {
    notes.push(`${label}: unreadable (${(error as Error).message})`);
    return undefined;
  }
}

/**
 * One record per step, in step order. A step logged more than once means two trainings wrote the file (a run
 * resumed while it still ran, or two processes on one directory): the curve would zigzag between them, so the
 * later line of each step is drawn and a note says how many steps repeat.
 */
function latestPerStep(records: MetricsRecord[], notes: string[]): MetricsRecord[] {
  const byStep = new Map<number, MetricsRecord>();
  const lines = new Map<number, number>();
  for (const record of records) {
    byStep.set(record.step, record);
    lines.set(record.step, (lines.get(record.step) ?? 0) + 1);
  }
  const repeated = records.length - byStep.size;
  if (repeated > 0) {
    const steps = [...lines].filter(([, n]) => n > 1).map(([step]) => step);
    notes.push(
      `${METRICS_FILE}: ${repeated} line${repeated === 1 ? '' : 's'} repeat a step already logged (${steps.length} step${steps.length === 1 ? '' : 's'}, ` +
        `first ${Math.min(...steps)}), as when two trainings write one run directory; the plots draw the last line of each step`,
    );
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export function readRun(dir: string): RunData {
  if (!isRunDir(dir)) throw new UserError(`not a run directory (no ${CONFIG_FILE}, ${RUN_FILE} or ${METRICS_FILE})`, { file: dir });
  const notes: string[] = [];

  let config: Record<string, unknown> | null = null;
  const configFile = path.join(dir, CONFIG_FILE);
  if (fs.existsSync(configFile)) {
    try {
      const parsed: unknown = YAML.parse(fs.readFileSync(configFile, 'utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) config = parsed as Record<string, unknown>;
      else notes.push(`${CONFIG_FILE}: not a mapping`);
    } catch (error) {
      notes.push(`${CONFIG_FILE}: unreadable (${(error as Error).message})`);
    }
  } else {
    notes.push(`no ${CONFIG_FILE}`);
  }

  if (!fs.existsSync(path.join(dir, RUN_FILE))) notes.push(`no ${RUN_FILE}`);
  const info = readJsonFile<RunInfo>(path.join(dir, RUN_FILE), notes, RUN_FILE) ?? null;

  const metrics = readJsonLines<MetricsRecord>(metricsFile(dir));
  if (metrics.skipped) notes.push(`${METRICS_FILE}: skipped ${metrics.skipped} unreadable line(s) (a line being written?)`);
  // Keep only well-formed records, in step order (a resumed run rewrites the file, so order holds already).
  const records = latestPerStep(
    metrics.records.filter((r) => r && typeof r.step === 'number'),
    notes,
  );

  const probes: RunProbes = {};
  for (const name of PROBE_FILES) {
    const result = readJsonFile<object>(probeFile(dir, name), notes, `${PROBES_DIR}/${name}.json`);
    if (result) (probes as Record<string, object>)[name] = result;
  }
  const byStep = readJsonLines<LengthAtStep>(lengthByStepFile(dir));
  if (byStep.skipped) notes.push(`${PROBES_DIR}/${LENGTH_BY_STEP_FILE}: skipped ${byStep.skipped} unreadable line(s)`);

  return {
    dir,
    name: path.basename(path.resolve(dir)),
    config,
    info,
    metrics: records,
    probes,
    lengthByStep: byStep.records.filter((r) => r && typeof r.step === 'number').sort((a, b) => a.step - b.step),
    notes,
  };
}

/** A config field by dotted path (`model.pos`), or undefined. */
export function configValue(config: Record<string, unknown> | null, dotted: string): unknown {
  let node: unknown = config;
  for (const key of dotted.split('.')) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The trained operand lengths [min, max], from the config or else from a probe. */
export function trainingRange(run: RunData): [number, number] | null {
  const fromConfig = configValue(run.config, 'task.train_digits');
  if (Array.isArray(fromConfig) && fromConfig.length === 2 && fromConfig.every((n) => typeof n === 'number'))
    return fromConfig as [number, number];
  return run.probes.length?.trainDigits ?? run.lengthByStep.at(-1)?.trainDigits ?? null;
}
