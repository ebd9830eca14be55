import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { engineMatmulPrecision, engineThreads, selectBackend } from '../backends/select.ts';
import type { Config } from '../config/schema.ts';
import { encodeBatch, pickRows, readPositions, type TokenBatch } from '../data/batches.ts';
import { buildTestSets, describeCurriculum, heldOutKeys, TrainStream } from '../data/dataset.ts';
import type { Problem } from '../data/problem.ts';
import { Gpt } from '../models/gpt.ts';
import { createRandom } from '../random.ts';
import { maskedCrossEntropy } from '../models/loss.ts';
import { auxHeadPrefix } from '../models/auxHeadNames.ts';
import { auxActivationName, auxLayers, auxLossAt, runningSumLoss, type AuxLossSpec } from '../models/auxLoss.ts';
import { runningSumTargets } from '../data/runningSum.ts';
import { internalizedTokens, internalizeExample } from '../data/internalize.ts';
import { RunStoppedError, UserError } from '../errors.ts';
import { cleanCheckpoints } from '../runs/checkpointFiles.ts';
import { configHash } from '../runs/configHash.ts';
import { describeFileError, isDiskFull } from '../runs/fileErrors.ts';
import { truncateJsonLines } from '../runs/jsonFiles.ts';
import { MetricsLog } from '../runs/metricsLog.ts';
import { metricsFile } from '../runs/paths.ts';
import type { MetricsRecord } from '../runs/records.ts';
import { readRunInfo, removeTemporaryFiles, writeResolvedConfig } from '../runs/runDirectory.ts';
import { RunRecord, threadChangeNote } from '../runs/runRecord.ts';
import { clipByGlobalNorm, type Optimizer } from './adamw.ts';
import { createOptimizer } from './optimizer.ts';
import {
  modelTensors,
  nonFiniteTensor,
  optimizerTensors,
  restoreModel,
  restoreOptimizer,
  onlineTensors,
  writeCheckpoint,
  type Checkpoint,
} from './checkpoint.ts';
import { accuracyByLength, summarizeAccuracy } from './evaluate.ts';
import { WeightAverage } from './weightAverage.ts';
import { gitCommit, versions } from './provenance.ts';
import { learningRate } from './schedule.ts';
import { prepareExperiment, type Experiment } from '../config/experiment.ts';
import { positionalLabel } from '../models/positional/index.ts';

/** A measurement taken on the model being trained (train.probe_every), e.g. the length grid. */
export type TrainingProbe = (step: number, model: Gpt, experiment: Experiment) => Promise<void>;

export interface TrainCallbacks {
  log?: (line: string) => void;
  /** After every optimizer step, with the loss just computed. */
  onStep?: (step: number, loss: number, tokensPerSecond: number) => void;
  /** After every evaluation. */
  onEval?: (record: MetricsRecord) => void;
  /**
   * Every `train.probe_every` steps and at the last step, outside the timed step. Without it probe_every does
   * nothing: the caller chooses the probe (the CLI passes the length probe of src/probes).
   */
  onProbe?: TrainingProbe;
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
  /** The trained model: the weight average when the config keeps one (train.ema). */
  model: Gpt;
  experiment: Experiment;
  final: MetricsRecord;
  trainSeconds: number;
}

/**
 * Loss-ready tensors for one batch; callers dispose them. With `rows` (the positions the loss reads, when they are
 * not all), the targets and mask come cut to them, [1, N], as the logits of a forward pass given `rows` are
 * (ForwardOptions.rows); else [B, T]. The running-sum targets are built on request, inside the gradient's scope
 * (which disposes them), in the shape the reading head needs: cut for a head on the last block, whole for a head
 * on an earlier block.
 */
function batchTensors(batch: TokenBatch) {
  const shape: [number, number] = [batch.batch, batch.seqLen];
  const read = readPositions(batch);
  // Nothing to cut when every position is read (loss on all tokens, no padding) or ARITH_READ_ROWS=all asks for
  // the whole pass (as before the cut, to the bit; the bench measures the cut this way).
  const cut = read.length < batch.batch * batch.seqLen && process.env.ARITH_READ_ROWS !== 'all' ? read : null;
  const perPosition = <T extends Float32Array | Int32Array>(values: T, dtype: 'int32' | 'float32') =>
    cut ? tf.tensor2d(pickRows(values, cut), [1, cut.length], dtype) : tf.tensor2d(values, shape, dtype);
  const aux = batch.auxTargets;
  return {
    inputs: tf.tensor2d(batch.inputs, shape, 'int32'),
    rows: cut ? tf.tensor1d(cut, 'int32') : undefined,
    targets: perPosition(batch.targets, 'int32'),
    mask: perPosition(batch.lossMask, 'float32'),
    positions: batch.positions && tf.tensor2d(batch.positions, shape, 'int32'),
    /** Running-sum targets, cut to the rows read (a head on the last block) or whole (a head on an earlier one). */
    auxTargets:
      aux &&
      ((cutToRows: boolean) => {
        const tensor = (values: Float32Array) => (cutToRows ? perPosition(values, 'float32') : tf.tensor2d(values, shape, 'float32'));
        return { values: tensor(aux.values), mask: tensor(aux.mask) };
      }),
  };
}

/**
 * A training batch of problems: the format's strings, the roles of their tokens and, where the model's encoding
 * gives sequences position ids of their own (coupling, Abacus, randomized positions), those ids as drawn for
 * training, from a stream of this step's own (so a resumed run draws the same).
 */
export function trainingBatch(model: Gpt, experiment: Experiment, problems: readonly Problem[], step: number): TokenBatch {
  const { format, formatOptions, tokenizer, config } = experiment;
  let examples = problems.map((p) => format.encode(p, formatOptions));
  let roles = format.roles ? problems.map((p) => format.roles!(p, formatOptions)) : undefined;
  // Stepwise internalization: this step's stage drops the first chain-of-thought tokens of every target.
  const removed = internalizedTokens(config.train.internalize, step);
  if (removed > 0) {
    const cut = examples.map((example, i) => internalizeExample(example, roles?.[i] ?? null, removed));
    examples = cut.map((c) => c.example);
    if (roles) roles = cut.map((c) => c.roles!);
  }
  const batch = encodeBatch(examples, tokenizer, config.train.loss_on, roles);
  if (auxLossAt(config.train.aux_loss, step) && batch.roles) batch.auxTargets = runningSumTargets(problems, batch.roles, batch.seqLen);
  if (batch.roles) {
    const random = createRandom(config.seed, `positions:${step}`);
    const ids = batch.roles.map((row) => model.positionIds(row, { training: true, random }));
    if (ids.some((row) => row !== null)) {
      batch.positions = new Int32Array(batch.batch * batch.seqLen);
      ids.forEach((row, r) => batch.positions!.set(row ?? batch.roles![r].map((_, t) => t), r * batch.seqLen));
    }
  }
  return batch;
}

/**
 * One optimizer step: forward, masked loss, gradients, global-norm clipping, AdamW (or Muon). Every intermediate tensor
 * is released here, so tf.memory().numTensors is the same after each step. Reads (gradient norm, loss) are
 * asynchronous: a synchronous read throws on tfjs-webgpu in Node.
 */
export async function trainStep(
  model: Gpt,
  optimizer: Optimizer,
  batch: TokenBatch,
  lr: number,
  gradClip: number,
  dropoutSeed: number,
  aux: AuxLossSpec | null = null,
) {
  const tensors = batchTensors(batch);
  const { auxTargets } = tensors;
  if (aux && !auxTargets) throw new Error('the auxiliary loss needs the batch running-sum targets');
  let auxValue: tf.Scalar | null = null;
  const { value, grads: byVariableName } = tf.variableGrads(() => {
    const layers = aux ? auxLayers(aux) : [];
    const names = new Map(layers.map((layer) => [auxActivationName(layer, aux!.read), layer]));
    const read = new Map<number, tf.Tensor>();
    const logits = model.forward(tensors.inputs, {
      training: true,
      dropoutSeed,
      positions: tensors.positions,
      rows: tensors.rows,
      ...(aux && {
        hook: (name: string, activation: tf.Tensor) => {
          const layer = names.get(name);
          if (layer !== undefined) read.set(layer, activation);
        },
        hookPatterns: false,
      }),
    });
    const loss = maskedCrossEntropy(logits, tensors.targets, tensors.mask);
    if (!aux) return loss;
    // Several heads: their losses are summed, so each weighs what a single head would.
    const perHead = layers.map((layer) => {
      const activation = read.get(layer);
      if (!activation) throw new Error(`the model has no activation ${auxActivationName(layer, aux.read)}`);
      const cut = tensors.rows && auxActivationName(layer, aux.read).startsWith(`${model.lastBlockName}.`);
      const targets = auxTargets!(Boolean(cut));
      return runningSumLoss(model, activation, targets.values, targets.mask, aux, auxHeadPrefix(layer, layers));
    });
    auxValue = tf.keep(perHead.length === 1 ? perHead[0] : (tf.addN(perHead) as tf.Scalar));
    return tf.add(loss, tf.mul(auxValue, aux.weight)) as tf.Scalar;
  }, Object.values(model.params));
  // tfjs keys gradients by its internal variable names; the optimizer addresses parameters by checkpoint name.
  // A parameter the loss does not reach has none (the running-sum heads after train.aux_loss.until_step).
  const grads = Object.fromEntries(
    Object.entries(model.params).flatMap(([name, v]) => (byVariableName[v.name] ? [[name, byVariableName[v.name]]] : [])),
  );
  let clipped: { grads: Record<string, tf.Tensor>; norm: number } = { grads, norm: NaN };
  try {
    clipped = await clipByGlobalNorm(grads, gradClip);
    optimizer.apply(clipped.grads, lr);
    const loss = (await value.data())[0];
    const auxLoss = auxValue ? (await (auxValue as tf.Scalar).data())[0] : null;
    return { loss, gradNorm: clipped.norm, auxLoss };
  } finally {
    tf.dispose([
      value,
      ...(auxValue ? [auxValue] : []),
      ...(tensors.rows ? [tensors.rows] : []),
      ...Object.values(clipped.grads),
      tensors.inputs,
      tensors.targets,
      tensors.mask,
      ...(tensors.positions ? [tensors.positions] : []),
    ]);
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

/** Everything one training session holds, built by `setUp`. */
interface Session {
  config: Config;
  runDir: string;
  options: TrainOptions;
  log: (line: string) => void;
  backend: string;
  experiment: Experiment;
  testSets: Map<number, Problem[]>;
  stream: TrainStream;
  /** The weights the optimizer trains. */
  model: Gpt;
  optimizer: Optimizer;
  /** The moving average of the weights (train.ema), or null: the online weights are the run's model. */
  average: WeightAverage | null;
}

/** The model a run evaluates, probes, saves as model.safetensors and returns: the average when there is one. */
const runModel = (session: Session): Gpt => session.average?.model ?? session.model;

/** The counters a checkpoint carries, so a resumed run continues them. */
interface Progress {
  /** The last completed step. */
  step: number;
  trainSeconds: number;
  /** Tokens and seconds since the last metrics line, for `tokens_per_s`. */
  window: { tokens: number; seconds: number };
  /** The last metrics line written. */
  last: MetricsRecord | null;
}

/** Backend, data, model and optimizer, as the config says. */
async function setUp(config: Config, runDir: string, options: TrainOptions): Promise<Session> {
  const log = options.log ?? (() => {});
  const backend = await selectBackend(config.backend, log, config.device);
  const experiment = prepareExperiment(config);
  const testSets = buildTestSets(experiment.task, config.seed);
  const stream = new TrainStream(experiment.task, config.seed, heldOutKeys(testSets));
  const model = new Gpt(experiment.model, config.seed);
  const t = config.train;
  const optimizer = createOptimizer(model.params, t);
  const average = t.ema ? new WeightAverage(model, config.seed, t.ema) : null;
  log(
    `model: ${model.parameterCount.toLocaleString('en-US')} parameters, ${config.model.layers} layers, d_model ${config.model.d_model}, pos ${positionalLabel(config.model.pos)}, vocabulary ${experiment.tokenizer.size}`,
  );
  const curriculum = describeCurriculum(experiment.task);
  if (curriculum) log(curriculum);
  return { config, runDir, options, log, backend, experiment, testSets, stream, model, optimizer, average };
}

/** Weights, AdamW moments and step, the stream's position and the counters from a checkpoint; or a fresh start. */
function resume(session: Session, checkpoint: Checkpoint | null): Progress {
  if (!checkpoint) return { step: 0, trainSeconds: 0, window: { tokens: 0, seconds: 0 }, last: null };
  if (session.average) {
    restoreModel(session.model, onlineTensors(checkpoint.optimizer));
    restoreModel(session.average.model, checkpoint.model);
  } else {
    restoreModel(session.model, checkpoint.model);
  }
  restoreOptimizer(session.optimizer, checkpoint.optimizer, checkpoint.state.optimizer_step);
  session.stream.restore(checkpoint.state.stream);
  return {
    step: checkpoint.step,
    trainSeconds: checkpoint.state.train_seconds,
    window: { ...checkpoint.state.window },
    last: checkpoint.state.last_record,
  };
}

/**
 * Marks the run running in run.json. A new run also gets its config.yaml; a resumed one loses the metrics lines
 * and checkpoints past its checkpoint (written before a crash), which are recomputed.
 */
function openRecord(session: Session, resumeFrom: Checkpoint | null | undefined): RunRecord {
  const { config, runDir, backend } = session;
  if (resumeFrom === undefined) {
    writeResolvedConfig(runDir, config);
    return RunRecord.start(runDir, {
      name: config.name ?? 'run',
      backend,
      versions: versions(),
      git_commit: gitCommit(),
      threads: engineThreads(),
      matmul_precision: engineMatmulPrecision(),
      parameters: session.model.parameterCount,
      configHash: configHash(config),
    });
  }
  const step = resumeFrom?.step ?? 0;
  const previous = readRunInfo(runDir);
  const threads = engineThreads();
  const note = threadChangeNote(previous.resumes?.at(-1)?.threads ?? previous.threads, threads);
  if (note && resumeFrom) session.log(note);
  removeTemporaryFiles(runDir);
  truncateJsonLines(metricsFile(runDir), step);
  cleanCheckpoints(runDir, step);
  const record = RunRecord.resume(runDir, previous, {
    backend,
    git_commit: gitCommit(),
    threads,
    matmul_precision: engineMatmulPrecision(),
    step,
    checkpointDir: resumeFrom?.dir ?? null,
    configHash: configHash(config),
  });
  session.log(
    resumeFrom ? `resuming at step ${step} from ${path.relative(runDir, resumeFrom.dir)}` : 'no checkpoint yet: starting over from step 0',
  );
  return record;
}

/** What one optimizer step measured. */
interface StepTaken {
  step: number;
  lr: number;
  loss: number;
  /** The running-sum auxiliary loss before its weight (already inside `loss`); null without one. */
  auxLoss: number | null;
  gradNorm: number;
  /** Over the window since the last metrics line. */
  tokensPerSecond: number;
}

/** One timed optimizer step on the next batch; a NaN or infinite loss or gradient is a DivergenceError. */
async function runStep(session: Session, progress: Progress, record: RunRecord, step: number): Promise<StepTaken> {
  const { config, experiment } = session;
  const t = config.train;
  const lr = learningRate(step, { lr: t.lr, minLr: t.min_lr, warmup: t.warmup, steps: t.steps, cooldown: t.cooldown });
  const started = performance.now();
  const problems = session.stream.next(t.batch, step);
  const batch = trainingBatch(session.model, experiment, problems, step);
  const { loss, gradNorm, auxLoss } = await trainStep(
    session.model,
    session.optimizer,
    batch,
    lr,
    t.grad_clip,
    config.seed * 1_000_003 + step,
    auxLossAt(t.aux_loss, step),
  );
  session.average?.update(session.model, step);
  const seconds = (performance.now() - started) / 1000;
  progress.step = step;
  progress.trainSeconds += seconds;
  progress.window.seconds += seconds;
  progress.window.tokens += batch.batch * batch.seqLen;
  const tokensPerSecond = progress.window.tokens / Math.max(progress.window.seconds, 1e-9);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    const what = Number.isFinite(loss) ? `gradient norm became ${gradNorm}` : `loss became ${loss}`;
    throw new DivergenceError(`run diverged: ${what} at step ${step}; ${record.describeCheckpoint()}`);
  }
  return { step, lr, loss, auxLoss, gradNorm, tokensPerSecond };
}

/** Accuracy by length on `limit` held-out problems per length, into the metrics record. */
async function evaluate(session: Session, record: MetricsRecord, limit: number): Promise<void> {
  const accuracy = await accuracyByLength(runModel(session), session.experiment, session.testSets, limit);
  const summary = summarizeAccuracy(accuracy, session.experiment.task.trainDigits);
  Object.assign(record, { accuracy, accuracy_in_range: summary.inRange, accuracy_beyond: summary.beyond });
  // The online weights on the same problems: what the average adds, measured in every run that keeps one.
  if (session.average) record.online_accuracy = await accuracyByLength(session.model, session.experiment, session.testSets, limit);
  session.options.onEval?.(record);
}

/** Every `train.eval_every` steps and at the last step. */
const evaluatesAt = (config: Config, step: number) => step % config.train.eval_every === 0 || step === config.train.steps;

/**
 * Appends the step's metrics.jsonl line, with an evaluation when one is due (on every held-out problem at the
 * last step, on `train.eval_size` per length before), and starts a new `tokens_per_s` window.
 */
async function logMetrics(session: Session, progress: Progress, metrics: MetricsLog, taken: StepTaken): Promise<void> {
  const t = session.config.train;
  const line: MetricsRecord = {
    step: taken.step,
    loss: taken.loss,
    lr: taken.lr,
    tokens_per_s: Math.round(taken.tokensPerSecond),
    grad_norm: taken.gradNorm,
    elapsed_s: Number(progress.trainSeconds.toFixed(3)),
    ...(taken.auxLoss !== null && { aux_loss: taken.auxLoss }),
  };
  if (evaluatesAt(session.config, taken.step)) await evaluate(session, line, taken.step === t.steps ? Infinity : t.eval_size);
  metrics.append(line);
  progress.last = line;
  progress.window = { tokens: 0, seconds: 0 };
}

/** Writes `checkpoints/step-NNNNNN/` and points run.json at it. Weights or moments that overflowed are never saved. */
async function checkpoint(session: Session, progress: Progress, record: RunRecord): Promise<void> {
  const { config, experiment, optimizer } = session;
  const weights = await modelTensors(runModel(session));
  const moments = await optimizerTensors(optimizer, session.average ? session.model : undefined);
  // Weights can overflow while the loss still looks finite; such a state is never saved as "good".
  const bad = nonFiniteTensor(weights) ?? nonFiniteTensor(moments);
  if (bad !== null)
    throw new DivergenceError(`run diverged: ${bad} became NaN or infinite at step ${progress.step}; ${record.describeCheckpoint()}`);
  const dir = writeCheckpoint(
    session.runDir,
    {
      step: progress.step,
      model: weights,
      optimizer: moments,
      state: {
        stream: session.stream.state(),
        optimizer_step: optimizer.step,
        train_seconds: progress.trainSeconds,
        window: { ...progress.window },
        last_record: progress.last,
        backend: session.backend,
      },
      metadata: {
        model: JSON.stringify(experiment.model),
        vocabulary: JSON.stringify(experiment.tokenizer.tokens),
        config: JSON.stringify(config),
      },
    },
    config.train.keep_checkpoints,
    config.train.keep_checkpoints_at,
  );
  record.checkpointed(progress.step, dir, progress.trainSeconds);
}

/** After the checkpoint of an aborted run: marks it interrupted; the caller throws the error returned. */
function stop(progress: Progress, record: RunRecord, reason: string): InterruptedError {
  const step = progress.step;
  record.interrupted(step, progress.trainSeconds, `interrupted by ${reason} after step ${step}`);
  return new InterruptedError(
    `interrupted after step ${step}; checkpoint written, continue with: arith-lab train --resume ${record.runDir}`,
    step,
    reason === 'SIGTERM' ? 143 : 130,
  );
}

/** The last evaluation becomes the run's result; the caller gets the trained model. */
function finish(session: Session, progress: Progress, record: RunRecord): TrainResult {
  session.optimizer.dispose();
  if (session.average) session.model.dispose();
  const final = progress.last!;
  record.finished(session.config.train.steps, progress.trainSeconds, {
    accuracy: final.accuracy!,
    accuracy_in_range: final.accuracy_in_range ?? null,
    accuracy_beyond: final.accuracy_beyond ?? null,
  });
  return { runDir: session.runDir, model: runModel(session), experiment: session.experiment, final, trainSeconds: progress.trainSeconds };
}

/**
 * Trains a model as the config says, writing config.yaml, metrics.jsonl, run.json and checkpoints into
 * `runDir` (which the caller created, or which holds the run to resume). Evaluates every `train.eval_every`
 * steps on `eval_size` problems per test length and at the end on the full held-out sets; checkpoints every
 * `train.checkpoint_every` steps, at the `train.keep_checkpoints_at` steps and at the end.
 *
 * A resumed run continues exactly: weights, AdamW moments and step, the training stream's position and the
 * metrics counters come from the checkpoint, dropout masks are seeded by step, and metrics.jsonl lines past the
 * checkpoint are dropped and recomputed. Only the wall-clock fields (`tokens_per_s`, `elapsed_s`) differ.
 */
export async function train(config: Config, runDir: string, options: TrainOptions = {}): Promise<TrainResult> {
  const t = config.train;
  const session = await setUp(config, runDir, options);
  const progress = resume(session, options.resumeFrom ?? null);
  const startStep = progress.step;
  const metrics = new MetricsLog(metricsFile(runDir));
  let record: RunRecord | null = null;
  try {
    record = openRecord(session, options.resumeFrom);
    for (let step = startStep + 1; step <= t.steps; step++) {
      const taken = await runStep(session, progress, record, step);
      options.onStep?.(step, taken.loss, taken.tokensPerSecond);
      if (step % t.log_every === 0 || evaluatesAt(config, step)) await logMetrics(session, progress, metrics, taken);
      if (t.probe_every !== null && (step % t.probe_every === 0 || step === t.steps))
        await options.onProbe?.(step, runModel(session), session.experiment);
      await yieldToEventLoop();
      const interrupted = options.signal?.aborted === true && step < t.steps;
      const due = step % t.checkpoint_every === 0 || t.keep_checkpoints_at.includes(step) || step === t.steps;
      if (due || interrupted) await checkpoint(session, progress, record);
      if (interrupted) throw stop(progress, record, String(options.signal!.reason));
    }
  } catch (error) {
    session.optimizer.dispose();
    session.model.dispose();
    session.average?.dispose();
    throw endFailed(record, error, progress.last?.step ?? startStep, progress.trainSeconds);
  }
  return finish(session, progress, record);
}

/** The file a failed write was writing, relative to the run (a checkpoint's temporary folder named by its step). */
function written(record: RunRecord | null, error: unknown): string {
  const file = (error as { path?: string }).path;
  if (file === undefined) return 'the run';
  return path.relative(record?.runDir ?? '.', file).replace(/\.partial-(step-\d+)-\d+/, '$1');
}

/**
 * Marks the run failed in run.json with the error's message (whatever the error: any crash after the run started
 * leaves run.json saying so) and returns the error to throw. A full disk becomes a UserError that says so: the
 * complete checkpoints are kept, and the run resumes once there is space.
 */
function endFailed(record: RunRecord | null, error: unknown, step: number, trainSeconds: number): unknown {
  if (error instanceof InterruptedError) return error;
  const problem = describeFileError(error);
  const thrown = isDiskFull(error)
    ? new UserError(
        `${problem} writing ${written(record, error)}; ` +
          `the run stopped, its complete checkpoints are kept (${record?.describeCheckpoint() ?? 'no checkpoint was written'}): ` +
          `free some space, then continue with: arith-lab train --resume ${record?.runDir ?? ''}`.trimEnd(),
        { file: record?.runDir },
      )
    : error;
  try {
    record?.failed(step, trainSeconds, String((thrown as Error).message));
  } catch (recordError) {
    // run.json itself could not be written (the disk is full even for that): the error thrown says why.
    if (!isDiskFull(recordError)) throw recordError;
  }
  return thrown;
}
