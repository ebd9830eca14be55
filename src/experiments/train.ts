import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backends/select.ts';
import type { Config } from '../config/schema.ts';
import { encodeBatch, type TokenBatch } from '../data/batches.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../data/dataset.ts';
import { Gpt } from '../models/gpt.ts';
import { maskedCrossEntropy } from '../models/loss.ts';
import { RunStoppedError } from '../errors.ts';
import { AdamW, clipByGlobalNorm } from './adamw.ts';
import {
  cleanCheckpoints,
  modelTensors,
  optimizerTensors,
  restoreModel,
  restoreOptimizer,
  writeCheckpoint,
  type Checkpoint,
} from './checkpoint.ts';
import { accuracyByLength, summarizeAccuracy } from './evaluate.ts';
import { MetricsLog, truncateMetrics, type MetricsRecord } from './metrics.ts';
import { gitCommit, versions } from './provenance.ts';
import { METRICS_FILE, readRunInfo, writeResolvedConfig, writeRunInfo, type RunInfo } from './runDir.ts';
import { learningRate } from './schedule.ts';
import { prepareExperiment, type Experiment } from './setup.ts';
import { probeLengthDuringTraining } from '../probes/duringTraining.ts';

export interface TrainCallbacks {
  log?: (line: string) => void;
  /** After every optimizer step, with the loss just computed. */
  onStep?: (step: number, loss: number, tokensPerSecond: number) => void;
  /** After every evaluation. */
  onEval?: (record: MetricsRecord) => void;
}

export interface TrainOptions extends TrainCallbacks {
  /**
   * Continue the run already in `runDir` instead of starting one: from this checkpoint (see `prepareResume`),
   * or from step 0 when null (the run stopped before its first checkpoint). Undefined: a new run.
   */
  resumeFrom?: Checkpoint | null;
  /**
   * Once aborted, training stops after the current step, writes a checkpoint, marks the run "interrupted" and
   * throws InterruptedError. Give the signal's name as the abort reason ('SIGINT', 'SIGTERM') for the exit code.
   */
  signal?: AbortSignal;
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
 * is released here, so tf.memory().numTensors is the same after each step. Reads (gradient norm, loss) are
 * asynchronous: a synchronous read throws on tfjs-webgpu in Node.
 */
export async function trainStep(model: Gpt, optimizer: AdamW, batch: TokenBatch, lr: number, gradClip: number, dropoutSeed: number) {
  const tensors = batchTensors(batch);
  const { value, grads: byVariableName } = tf.variableGrads(
    () => maskedCrossEntropy(model.forward(tensors.inputs, { training: true, dropoutSeed }), tensors.targets, tensors.mask),
    Object.values(model.params),
  );
  // tfjs keys gradients by its internal variable names; the optimizer addresses parameters by checkpoint name.
  const grads = Object.fromEntries(Object.entries(model.params).map(([name, v]) => [name, byVariableName[v.name]]));
  let clipped: { grads: Record<string, tf.Tensor>; norm: number } = { grads, norm: NaN };
  try {
    clipped = await clipByGlobalNorm(grads, gradClip);
    optimizer.apply(clipped.grads, lr);
    const loss = (await value.data())[0];
    return { loss, gradNorm: clipped.norm };
  } finally {
    tf.dispose([value, ...Object.values(clipped.grads), tensors.inputs, tensors.targets, tensors.mask]);
  }
}

/** The loss or the gradient became NaN or infinite; the run is marked failed and its checkpoints kept. */
export class DivergenceError extends RunStoppedError {
  constructor(message: string) {
    super(message, 1);
    this.name = 'DivergenceError';
  }
}

/** Training stopped on request (Ctrl-C, SIGTERM) after writing a checkpoint; exit 130 for SIGINT, 143 for SIGTERM. */
export class InterruptedError extends RunStoppedError {
  constructor(
    message: string,
    readonly step: number,
    exitCode: number,
  ) {
    super(message, exitCode);
    this.name = 'InterruptedError';
  }
}

/** Lets signal handlers run between steps (a step awaits only its GPU reads, which may not yield to them). */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function allFinite(tensors: Awaited<ReturnType<typeof modelTensors>>): boolean {
  for (const { data } of Object.values(tensors)) {
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  }
  return true;
}

/**
 * Trains a model as the config says, writing config.yaml, metrics.jsonl, run.json and checkpoints into
 * `runDir` (which the caller created, or which holds the run to resume). Evaluates every `train.eval_every`
 * steps on `eval_size` problems per test length and at the end on the full held-out sets; checkpoints every
 * `train.checkpoint_every` steps and at the end.
 *
 * A resumed run continues exactly: weights, AdamW moments and step, the training stream's position and the
 * metrics counters come from the checkpoint, dropout masks are seeded by step, and metrics.jsonl lines past the
 * checkpoint are dropped and recomputed. Only the wall-clock fields (`tokens_per_s`, `elapsed_s`) differ.
 */
export async function train(config: Config, runDir: string, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? (() => {});
  const resuming = options.resumeFrom !== undefined;
  const checkpoint = options.resumeFrom ?? null;
  const backend = await selectBackend(config.backend, log, config.device);
  const experiment = prepareExperiment(config);
  const testSets = buildTestSets(experiment.task, config.seed);
  const stream = new TrainStream(experiment.task, config.seed, heldOutKeys(testSets));
  const model = new Gpt(experiment.model, config.seed);
  const t = config.train;
  const optimizer = new AdamW(model.params, { beta1: t.beta1, beta2: t.beta2, epsilon: 1e-8, weightDecay: t.weight_decay });
  log(`model: ${model.parameterCount.toLocaleString('en-US')} parameters, ${config.model.layers} layers, d_model ${config.model.d_model}, pos ${config.model.pos}, vocabulary ${experiment.tokenizer.size}`);

  const startStep = checkpoint?.step ?? 0;
  let trainSeconds = checkpoint?.state.train_seconds ?? 0;
  let windowTokens = checkpoint?.state.window.tokens ?? 0;
  let windowSeconds = checkpoint?.state.window.seconds ?? 0;
  let last: MetricsRecord | null = checkpoint?.state.last_record ?? null;
  if (checkpoint) {
    restoreModel(model, checkpoint.model);
    restoreOptimizer(optimizer, checkpoint.optimizer, checkpoint.state.optimizer_step);
    stream.restore(checkpoint.state.stream);
  }

  const metricsFile = path.join(runDir, METRICS_FILE);
  let info: RunInfo;
  const now = new Date().toISOString();
  if (resuming) {
    // Lines past the checkpoint (written before a crash) are recomputed; so are checkpoints past it (unusable).
    truncateMetrics(metricsFile, startStep);
    cleanCheckpoints(runDir, startStep);
    const previous = readRunInfo(runDir);
    info = {
      ...previous,
      status: 'running',
      backend,
      step: startStep,
      message: undefined,
      finished_at: undefined,
      result: undefined,
      checkpoint: checkpoint ? { step: startStep, dir: path.relative(runDir, checkpoint.dir) } : undefined,
      resumes: [...(previous.resumes ?? []), { at: now, step: startStep, backend, git_commit: gitCommit() }],
    };
    log(checkpoint ? `resuming at step ${startStep} from ${path.relative(runDir, checkpoint.dir)}` : 'no checkpoint yet: starting over from step 0');
  } else {
    writeResolvedConfig(runDir, config);
    info = {
      status: 'running',
      name: config.name ?? 'run',
      backend,
      started_at: now,
      updated_at: '',
      versions: versions(),
      git_commit: gitCommit(),
      parameters: model.parameterCount,
      step: 0,
    };
  }
  writeRunInfo(runDir, info);
  const metrics = new MetricsLog(metricsFile);

  const schedule = { lr: t.lr, minLr: t.min_lr, warmup: t.warmup, steps: t.steps };
  const evaluate = async (record: MetricsRecord, limit: number) => {
    const accuracy = await accuracyByLength(model, experiment, testSets, limit);
    const summary = summarizeAccuracy(accuracy, experiment.task.trainDigits);
    Object.assign(record, { accuracy, accuracy_in_range: summary.inRange, accuracy_beyond: summary.beyond });
    options.onEval?.(record);
  };
  const saveCheckpoint = async (step: number) => {
    const weights = await modelTensors(model);
    // Weights can overflow while the loss still looks finite; such a state is never saved as "good".
    if (!allFinite(weights)) throw new DivergenceError(`run diverged: weights became NaN or infinite at step ${step}; ${describeCheckpoint()}`);
    const dir = writeCheckpoint(
      runDir,
      {
        step,
        model: weights,
        optimizer: await optimizerTensors(optimizer),
        state: {
          stream: stream.state(),
          optimizer_step: optimizer.step,
          train_seconds: trainSeconds,
          window: { tokens: windowTokens, seconds: windowSeconds },
          last_record: last,
          backend,
        },
        metadata: {
          model: JSON.stringify(experiment.model),
          vocabulary: JSON.stringify(experiment.tokenizer.tokens),
          config: JSON.stringify(config),
        },
      },
      t.keep_checkpoints,
    );
    info.checkpoint = { step, dir: path.relative(runDir, dir) };
  };
  const describeCheckpoint = () =>
    info.checkpoint ? `last good checkpoint: step ${info.checkpoint.step} (${path.join(runDir, info.checkpoint.dir)})` : 'no checkpoint was written';

  try {
    for (let step = startStep + 1; step <= t.steps; step++) {
      const lr = learningRate(step, schedule);
      const started = performance.now();
      const problems = stream.next(t.batch);
      const batch = encodeBatch(
        problems.map((p) => experiment.format.encode(p, experiment.formatOptions)),
        experiment.tokenizer,
        t.loss_on,
      );
      const { loss, gradNorm } = await trainStep(model, optimizer, batch, lr, t.grad_clip, config.seed * 1_000_003 + step);
      const seconds = (performance.now() - started) / 1000;
      trainSeconds += seconds;
      windowSeconds += seconds;
      windowTokens += batch.batch * batch.seqLen;
      const tokensPerSecond = windowTokens / Math.max(windowSeconds, 1e-9);
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        const what = Number.isFinite(loss) ? `gradient norm became ${gradNorm}` : `loss became ${loss}`;
        throw new DivergenceError(`run diverged: ${what} at step ${step}; ${describeCheckpoint()}`);
      }
      options.onStep?.(step, loss, tokensPerSecond);
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
        if (isEval) await evaluate(record, step === t.steps ? Infinity : t.eval_size);
        metrics.append(record);
        last = record;
        windowTokens = 0;
        windowSeconds = 0;
      }
      // train.probe_every (src/probes): the length grid over training, outside the timed step.
      if (t.probe_every !== null && (step % t.probe_every === 0 || step === t.steps)) {
        await probeLengthDuringTraining(runDir, step, model, experiment, t.probe_samples);
      }
      await yieldToEventLoop();
      const interrupted = options.signal?.aborted === true && step < t.steps;
      if (step % t.checkpoint_every === 0 || step === t.steps || interrupted) {
        await saveCheckpoint(step);
        writeRunInfo(runDir, { ...info, step, train_seconds: Number(trainSeconds.toFixed(1)) });
      }
      if (interrupted) {
        const reason = String(options.signal!.reason);
        info = { ...info, status: 'interrupted', step, train_seconds: Number(trainSeconds.toFixed(1)), message: `interrupted by ${reason} after step ${step}` };
        writeRunInfo(runDir, info);
        throw new InterruptedError(
          `interrupted after step ${step}; checkpoint written, continue with: arith-lab train --resume ${runDir}`,
          step,
          reason === 'SIGTERM' ? 143 : 130,
        );
      }
    }
  } catch (error) {
    if (!(error instanceof InterruptedError)) {
      writeRunInfo(runDir, { ...info, status: 'failed', step: last?.step ?? startStep, train_seconds: Number(trainSeconds.toFixed(1)), message: String((error as Error).message) });
    }
    optimizer.dispose();
    model.dispose();
    throw error;
  }
  optimizer.dispose();
  const final = last!;
  writeRunInfo(runDir, {
    ...info,
    status: 'finished',
    step: t.steps,
    finished_at: new Date().toISOString(),
    train_seconds: Number(trainSeconds.toFixed(1)),
    result: {
      accuracy: final.accuracy!,
      accuracy_in_range: final.accuracy_in_range ?? null,
      accuracy_beyond: final.accuracy_beyond ?? null,
    },
  });
  return { runDir, model, experiment, final, trainSeconds };
}
