import * as tf from '@tensorflow/tfjs';
import { selectBackend, type DeviceName } from '../../src/backends/select.ts';
import { uploadedBytes } from '../../src/backends/torch/index.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../../src/data/dataset.ts';
import { AdamW } from '../../src/experiments/adamw.ts';
import { learningRate } from '../../src/experiments/schedule.ts';
import { prepareExperiment, type Experiment } from '../../src/config/experiment.ts';
import { trainingBatch, trainStep } from '../../src/experiments/train.ts';
import { Gpt } from '../../src/models/gpt.ts';
import { smallAdditionConfig } from '../fixtures/smallAdditionConfig.ts';

export interface ParityRun {
  model: Gpt;
  experiment: Experiment;
  stream: TrainStream;
  losses: number[];
  /** tf.memory().numTensors after each step. */
  tensorCounts: number[];
  /** Host bytes uploaded during each step (torch only; 0 elsewhere). */
  uploads: number[];
  /** Bytes of one batch's token ids, targets, loss mask and position ids. */
  batchBytes: number;
  ms: number;
}

/**
 * The small model the torch parity checks train (test/torch-training.test.ts here, bench/device-check.ts on a
 * GPU box): configs/addition-nope.yaml with `pos`, 2 layers, d_model 32, batch 16, seed 5, AdamW, `steps` steps.
 * The caller owns (and disposes) the returned model.
 */
export async function trainParityModel(
  backend: 'torch' | 'cpu',
  pos: string,
  steps: number,
  device: DeviceName = 'cpu',
): Promise<ParityRun> {
  await selectBackend(backend, () => {}, device);
  const config = smallAdditionConfig(pos);
  const experiment = prepareExperiment(config);
  const model = new Gpt(experiment.model, 5);
  const optimizer = new AdamW(model.params, { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });
  const stream = new TrainStream(experiment.task, 5, heldOutKeys(buildTestSets(experiment.task, 5)));
  const run: ParityRun = { model, experiment, stream, losses: [], tensorCounts: [], uploads: [], batchBytes: 0, ms: 0 };
  const started = performance.now();
  for (let step = 1; step <= steps; step++) {
    // With the position ids the run's encoding draws for training (coupling, Abacus), as a run's batches have.
    const batch = trainingBatch(model, experiment, stream.next(16, step), step);
    const before = uploadedBytes();
    run.losses.push(
      (await trainStep(model, optimizer, batch, learningRate(step, { lr: 3e-3, minLr: 1e-4, warmup: 5, steps }), 1.0, step)).loss,
    );
    run.uploads.push(uploadedBytes() - before);
    run.batchBytes = batch.inputs.byteLength + batch.targets.byteLength + batch.lossMask.byteLength + (batch.positions?.byteLength ?? 0);
    run.tensorCounts.push(tf.memory().numTensors);
  }
  run.ms = performance.now() - started;
  optimizer.dispose();
  return run;
}
