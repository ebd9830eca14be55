import fs from 'node:fs';
import path from 'node:path';
import { truncateMetrics } from '../experiments/metrics.ts';
import type { Experiment } from '../experiments/setup.ts';
import type { Gpt } from '../models/gpt.ts';
import { lengthProbe, type LengthResult } from './length.ts';
import { modelPredictor, probeContext, PROBES_DIR, runProbes } from './run.ts';

/** Written by `train.probe_every`: one JSON line per probed step, to plot accuracy by length against step. */
export const LENGTH_BY_STEP_FILE = 'length-by-step.jsonl';

export type LengthAtStep = { step: number; seconds: number } & Omit<LengthResult, 'cells'>;

/**
 * Runs the length probe (default grid, `samples` problems per cell) on the model being trained and appends a
 * line to `probes/length-by-step.jsonl`. Lines at or past `step` are dropped first: after a resume they came
 * from the interrupted attempt and are recomputed.
 */
export async function probeLengthDuringTraining(runDir: string, step: number, model: Gpt, experiment: Experiment, samples: number): Promise<LengthAtStep> {
  const context = probeContext(experiment, { samples });
  const [run] = await runProbes([lengthProbe], { predictor: modelPredictor(model, experiment) }, context);
  const { cells: _cells, ...result } = run.result as LengthResult;
  const line: LengthAtStep = { step, seconds: Number(run.seconds.toFixed(3)), ...result };
  const dir = path.join(runDir, PROBES_DIR);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LENGTH_BY_STEP_FILE);
  truncateMetrics(file, step - 1);
  fs.appendFileSync(file, JSON.stringify(line) + '\n');
  return line;
}
