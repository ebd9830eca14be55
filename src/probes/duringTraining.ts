import type { Experiment } from '../config/experiment.ts';
import type { Gpt } from '../models/gpt.ts';
import { appendLengthAtStep } from '../runs/probeFiles.ts';
import { lengthProbe, type LengthResult } from './length.ts';
import { modelPredictor, probeContext, runProbes } from './run.ts';

/** One line of probes/length-by-step.jsonl: the length probe's result at a training step, without its cells. */
export type LengthAtStep = { step: number; seconds: number } & Omit<LengthResult, 'cells'>;

/**
 * Runs the length probe (default grid, `samples` problems per cell) on the model being trained and appends a
 * line to `probes/length-by-step.jsonl`. Lines at or past `step` are dropped first: after a resume they came
 * from the interrupted attempt and are recomputed.
 */
export async function probeLengthDuringTraining(
  runDir: string,
  step: number,
  model: Gpt,
  experiment: Experiment,
  samples: number,
): Promise<LengthAtStep> {
  const context = probeContext(experiment, { samples });
  const [run] = await runProbes([lengthProbe], { predictor: modelPredictor(model, experiment) }, context);
  const { cells: _cells, ...result } = run.result as LengthResult;
  const line: LengthAtStep = { step, seconds: Number(run.seconds.toFixed(3)), ...result };
  appendLengthAtStep(runDir, line);
  return line;
}

/**
 * train()'s `onProbe` for `train.probe_every`: the length grid of `train.probe_samples` problems per cell. Typed
 * by its shape, not by importing the training loop's type: probes sit below training.
 */
export function lengthProbeDuringTraining(runDir: string): (step: number, model: Gpt, experiment: Experiment) => Promise<void> {
  return async (step, model, experiment) => {
    await probeLengthDuringTraining(runDir, step, model, experiment, experiment.config.train.probe_samples);
  };
}
