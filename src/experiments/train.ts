import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backends/select.ts';
import type { Config } from '../config/schema.ts';
import { encodeBatch, type TokenBatch } from '../data/batches.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../data/dataset.ts';
import { Gpt } from '../models/gpt.ts';
import { maskedCrossEntropy } from '../models/loss.ts';
import { AdamW, clipByGlobalNorm } from './adamw.ts';
import { accuracyByLength, summarizeAccuracy } from './evaluate.ts';
import { MetricsLog, type MetricsRecord } from './metrics.ts';
import { gitCommit, versions } from './provenance.ts';
import { METRICS_FILE, writeResolvedConfig, writeRunInfo, type RunInfo } from './runDir.ts';
import { learningRate } from './schedule.ts';
import { prepareExperiment, type Experiment } from './setup.ts';

export interface TrainCallbacks {
  log?: (line: string) => void;
  /** After every optimizer step, with the loss just computed. */
  onStep?: (step: number, loss: number, tokensPerSecond: number) => void;
  /** After every evaluation. */
  onEval?: (record: MetricsRecord) => void;
}

export interface TrainResult {
  runDir: string;
  model: Gpt;
  experiment: Experiment;
  final: MetricsRecord;
  trainSeconds: number;
}

/** Builds loss-ready tensors for one batch; callers dispose them. */
function batchTensors(batch: TokenBatch) {
  const shape: [number, number] = [batch.batch, batch.seqLen];
  return {
    inputs: tf.tensor2d(batch.inputs, shape, 'int32'),
    targets: tf.tensor2d(batch.targets, shape, 'int32'),
    mask: tf.tensor2d(batch.lossMask, shape, 'float32'),
  };
}

/**
 * One optimizer step: forward, masked loss, gradients, global-norm clipping, AdamW. Every intermediate tensor
 * is released here, so tf.memory().numTensors is the same after each step.
 */
export function trainStep(model: Gpt, optimizer: AdamW, batch: TokenBatch, lr: number, gradClip: number, dropoutSeed: number) {
  const tensors = batchTensors(batch);
  const { value, grads: byVariableName } = tf.variableGrads(
    () => maskedCrossEntropy(model.forward(tensors.inputs, { training: true, dropoutSeed }), tensors.targets, tensors.mask),
    Object.values(model.params),
  );
  // tfjs keys gradients by its internal variable names; the optimizer addresses parameters by checkpoint name.
  const grads = Object.fromEntries(Object.entries(model.params).map(([name, v]) => [name, byVariableName[v.name]]));
  const clipped = clipByGlobalNorm(grads, gradClip);
  optimizer.apply(clipped.grads, lr);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(clipped.grads), tensors.inputs, tensors.targets, tensors.mask]);
  return { loss, gradNorm: clipped.norm };
}

/**
 * Trains a model as the config says, writing config.yaml, metrics.jsonl and run.json into `runDir`
 * (which the caller created). Evaluates every `train.eval_every` steps on `eval_size` problems per test length
 * and at the end on the full held-out sets.
 */
export async function train(config: Config, runDir: string, callbacks: TrainCallbacks = {}): Promise<TrainResult> {
  const log = callbacks.log ?? (() => {});
  const backend = await selectBackend(config.backend, log);
  const experiment = prepareExperiment(config);
  const testSets = buildTestSets(experiment.task, config.seed);
  const stream = new TrainStream(experiment.task, config.seed, heldOutKeys(testSets));
  const model = new Gpt(experiment.model, config.seed);
  const t = config.train;
  const optimizer = new AdamW(model.params, { beta1: t.beta1, beta2: t.beta2, epsilon: 1e-8, weightDecay: t.weight_decay });
  log(`model: ${model.parameterCount.toLocaleString('en-US')} parameters, ${config.model.layers} layers, d_model ${config.model.d_model}, pos ${config.model.pos}, vocabulary ${experiment.tokenizer.size}`);

  writeResolvedConfig(runDir, config);
  const metrics = new MetricsLog(path.join(runDir, METRICS_FILE));
  const info: RunInfo = {
    status: 'running',
    name: config.name ?? 'run',
    backend,
    started_at: new Date().toISOString(),
    updated_at: '',
    versions: versions(),
    git_commit: gitCommit(),
    parameters: model.parameterCount,
    step: 0,
  };
  writeRunInfo(runDir, info);

  const schedule = { lr: t.lr, minLr: t.min_lr, warmup: t.warmup, steps: t.steps };
  let trainSeconds = 0;
  let windowTokens = 0;
  let windowSeconds = 0;
  let last: MetricsRecord | null = null;
  const evaluate = (record: MetricsRecord, limit: number) => {
    const accuracy = accuracyByLength(model, experiment, testSets, limit);
    const summary = summarizeAccuracy(accuracy, experiment.task.trainDigits);
    Object.assign(record, { accuracy, accuracy_in_range: summary.inRange, accuracy_beyond: summary.beyond });
    callbacks.onEval?.(record);
  };

  try {
    for (let step = 1; step <= t.steps; step++) {
      const lr = learningRate(step, schedule);
      const started = performance.now();
      const problems = stream.next(t.batch);
      const batch = encodeBatch(
        problems.map((p) => experiment.format.encode(p, experiment.formatOptions)),
        experiment.tokenizer,
        t.loss_on,
      );
      const { loss, gradNorm } = trainStep(model, optimizer, batch, lr, t.grad_clip, config.seed * 1_000_003 + step);
      const seconds = (performance.now() - started) / 1000;
      trainSeconds += seconds;
      windowSeconds += seconds;
      windowTokens += batch.batch * batch.seqLen;
      const tokensPerSecond = windowTokens / Math.max(windowSeconds, 1e-9);
      if (!Number.isFinite(loss)) {
        throw new DivergenceError(`loss became ${loss} at step ${step}`);
      }
      callbacks.onStep?.(step, loss, tokensPerSecond);
      const isEval = step % t.eval_every === 0 || step === t.steps;
      if (step % t.log_every === 0 || isEval) {
        const record: MetricsRecord = {
          step,
          loss,
          lr,
          tokens_per_s: Math.round(tokensPerSecond),
          grad_norm: gradNorm,
          elapsed_s: Number(trainSeconds.toFixed(3)),
        };
        if (isEval) evaluate(record, step === t.steps ? Infinity : t.eval_size);
        metrics.append(record);
        last = record;
        windowTokens = 0;
        windowSeconds = 0;
      }
    }
  } catch (error) {
    writeRunInfo(runDir, { ...info, status: 'failed', step: last?.step ?? 0, train_seconds: trainSeconds, message: String((error as Error).message) });
    throw error;
  }
  const final = last!;
  writeRunInfo(runDir, {
    ...info,
    status: 'finished',
    step: t.steps,
    train_seconds: Number(trainSeconds.toFixed(1)),
    result: {
      accuracy: final.accuracy!,
      accuracy_in_range: final.accuracy_in_range ?? null,
      accuracy_beyond: final.accuracy_beyond ?? null,
    },
  });
  return { runDir, model, experiment, final, trainSeconds };
}

export class DivergenceError extends Error {
  override name = 'DivergenceError';
}
