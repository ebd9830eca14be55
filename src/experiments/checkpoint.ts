import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName, type DeviceName } from '../backends/select.ts';
import { parseConfig, readConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { Gpt, parameterSpecs, type GptConfig } from '../models/gpt.ts';
import { getPositionalEncoding } from '../models/positional/index.ts';
import {
  CHECKPOINT_FORMAT,
  CheckpointError,
  listCheckpoints,
  readCheckpointFile,
  readTrainingState,
  writeCheckpointFiles,
  type TrainingProgress,
  type TrainingState,
} from '../runs/checkpointFiles.ts';
import { CONFIG_FILE, MODEL_FILE, OPTIMIZER_FILE, RUN_FILE } from '../runs/paths.ts';
import type { RunInfo } from '../runs/records.ts';
import { configHash } from '../runs/configHash.ts';
import { readRunInfo } from '../runs/runDirectory.ts';
import { flattenConfig } from '../report/compare.ts';
import type { Optimizer } from './adamw.ts';
import { MUON_PARAMETER } from './muon.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.ts';
import { prepareExperiment, type Experiment } from '../config/experiment.ts';

/** A checkpoint folder (see src/runs/checkpointFiles.ts) with its tensors decoded. */
export interface Checkpoint {
  dir: string;
  step: number;
  state: TrainingState;
  model: Record<string, NamedTensor>;
  optimizer: Record<string, NamedTensor>;
  /** The model file's `__metadata__` (the model shape, vocabulary and config it was trained with). */
  metadata: Record<string, string>;
}

/** Copies variables off the backend with async reads (a synchronous read throws on tfjs-webgpu in Node). */
async function readTensors(entries: [string, tf.Variable][]): Promise<Record<string, NamedTensor>> {
  const data = await Promise.all(entries.map(([, v]) => v.data() as Promise<Float32Array>));
  return Object.fromEntries(entries.map(([name, v], i) => [name, { shape: v.shape, data: data[i] }]));
}

/** The parameters as plain arrays (copied off the backend). */
export function modelTensors(model: Gpt): Promise<Record<string, NamedTensor>> {
  return readTensors(Object.entries(model.params));
}

/**
 * The optimizer's state (AdamW's moments, Muon's momenta); with a weight average (train.ema), also the online
 * weights the optimizer trains, as `online.<name>`: model.safetensors then holds the average, the model every
 * reader of a run evaluates.
 */
export function optimizerTensors(optimizer: Optimizer, online?: Gpt): Promise<Record<string, NamedTensor>> {
  return readTensors([
    ...optimizer.state(),
    ...Object.entries(online?.params ?? {}).map(([name, w]): [string, tf.Variable] => [`${ONLINE_PREFIX}${name}`, w]),
  ]);
}

/** Prefix of the online weights in optimizer.safetensors of a run with a weight average. */
export const ONLINE_PREFIX = 'online.';

export interface CheckpointContent {
  step: number;
  model: Record<string, NamedTensor>;
  optimizer: Record<string, NamedTensor>;
  state: TrainingProgress;
  /** Free-form strings for the model file's `__metadata__` (e.g. the model shape). */
  metadata?: Record<string, string>;
}

/**
 * Encodes the tensors and writes `checkpoints/step-NNNNNN/` atomically, replacing a folder of the same step,
 * then deletes all but the newest `keep` checkpoints and those at the `pinned` steps. Returns the folder.
 */
export function writeCheckpoint(runDir: string, content: CheckpointContent, keep: number, pinned: readonly number[] = []): string {
  const model = encodeSafetensors(content.model, { format: CHECKPOINT_FORMAT, step: String(content.step), ...content.metadata });
  const optimizer = encodeSafetensors(content.optimizer, { format: CHECKPOINT_FORMAT, step: String(content.step) });
  return writeCheckpointFiles(runDir, content.step, { model, optimizer }, content.state, keep, pinned);
}

/** The parameter names and shapes a config's model has, to check a checkpoint against. */
export function expectedParameters(model: GptConfig): Map<string, number[]> {
  return new Map(parameterSpecs(model, getPositionalEncoding(model.pos)).map((spec) => [spec.name, spec.shape]));
}

function checkTensors(file: string, tensors: Record<string, NamedTensor>, expected: Map<string, number[]>): void {
  for (const [name, shape] of expected) {
    const tensor = tensors[name];
    if (!tensor) throw new CheckpointError(`${file}: tensor ${name} is missing`);
    if (tensor.shape.join(',') !== shape.join(',')) {
      throw new CheckpointError(`${file}: tensor ${name} has shape [${tensor.shape}], the run's config needs [${shape}]`);
    }
  }
  const extra = Object.keys(tensors).find((name) => !expected.has(name));
  if (extra) throw new CheckpointError(`${file}: unexpected tensor ${extra}`);
}

/** The name of the first tensor holding a NaN or an infinity, or null when every value is finite. */
export function nonFiniteTensor(tensors: Record<string, NamedTensor>): string | null {
  for (const [name, { data }] of Object.entries(tensors)) {
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return name;
  }
  return null;
}

/** What optimizer.safetensors holds besides AdamW's moments: see `optimizerShapes`. */
export interface OptimizerLayout {
  /** The online weights of a run with a weight average (train.ema). */
  averaged?: boolean;
  /** Muon's momenta in place of AdamW's moments for the blocks' matrices (train.muon). */
  muon?: boolean;
}

export const optimizerLayout = (config: Config): OptimizerLayout => ({
  averaged: config.train.ema !== undefined,
  muon: config.train.muon !== undefined,
});

/** The tensors optimizer.safetensors must hold, by name, for parameters of the given shapes. */
function optimizerShapes(parameters: Map<string, number[]>, layout: OptimizerLayout): Map<string, number[]> {
  return new Map(
    [...parameters].flatMap(([name, shape]) => {
      const state = layout.muon && MUON_PARAMETER.test(name) ? ['muon.m.'] : ['adam.m.', 'adam.v.'];
      const prefixes = [...state, ...(layout.averaged ? [ONLINE_PREFIX] : [])];
      return prefixes.map((prefix): [string, number[]] => [prefix + name, shape]);
    }),
  );
}

/**
 * Reads and verifies one checkpoint folder: state.json parses, is well-formed and names this step, every file
 * has its recorded checksum (when recorded), both tensor files have the recorded sizes and consistent
 * safetensors headers, every value is finite, and (given `expected`) every parameter and moment has the config's
 * shape, with the optimizer state and online weights the run's `layout` implies. Throws CheckpointError
 * saying which file is wrong and how.
 */
export function readCheckpoint(dir: string, expected?: Map<string, number[]>, layout: OptimizerLayout = {}): Checkpoint {
  const state = readTrainingState(dir);
  const read = (file: string) => {
    const bytes = readCheckpointFile(dir, file, state);
    let content: ReturnType<typeof decodeSafetensors>;
    try {
      content = decodeSafetensors(bytes);
    } catch (error) {
      throw new CheckpointError(`${file}: ${(error as Error).message}`);
    }
    // A diverged state is never a usable checkpoint, whoever wrote it.
    const bad = nonFiniteTensor(content.tensors);
    if (bad !== null) throw new CheckpointError(`${file}: tensor ${bad} holds NaN or infinite values`);
    return content;
  };
  const { tensors: model, metadata } = read(MODEL_FILE);
  const optimizer = read(OPTIMIZER_FILE).tensors;
  if (expected) {
    checkTensors(MODEL_FILE, model, expected);
    checkTensors(OPTIMIZER_FILE, optimizer, optimizerShapes(expected, layout));
  }
  return { dir, step: state.step, state, model, optimizer, metadata };
}

/**
 * The newest usable checkpoint of a run, or null when it has none. An unusable newer one is skipped with a
 * warning line (it is what a crash or a full disk leaves behind); when every one is unusable that is a
 * UserError naming each problem.
 */
export function latestCheckpoint(
  runDir: string,
  expected: Map<string, number[]>,
  warn: (line: string) => void = () => {},
  layout: OptimizerLayout = {},
): Checkpoint | null {
  const candidates = listCheckpoints(runDir);
  const problems: string[] = [];
  for (const candidate of candidates) {
    try {
      const checkpoint = readCheckpoint(candidate.dir, expected, layout);
      for (const problem of problems) warn(`warning: ${problem}; using ${path.basename(candidate.dir)} instead`);
      return checkpoint;
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      problems.push(`checkpoint ${path.basename(candidate.dir)} is unusable: ${error.message}`);
    }
  }
  if (problems.length > 0) {
    throw new UserError(`no usable checkpoint (${problems.join('; ')})`, { file: runDir });
  }
  return null;
}

/** Copies checkpoint tensors into a model's variables (shapes were checked by readCheckpoint). */
export function restoreModel(model: Gpt, tensors: Record<string, NamedTensor>): void {
  for (const [name, variable] of Object.entries(model.params)) {
    const value = tf.tensor(tensors[name].data, tensors[name].shape);
    variable.assign(value);
    value.dispose();
  }
}

/** The online weights of a checkpoint with a weight average, by parameter name. */
export function onlineTensors(optimizer: Record<string, NamedTensor>): Record<string, NamedTensor> {
  return Object.fromEntries(
    Object.entries(optimizer)
      .filter(([name]) => name.startsWith(ONLINE_PREFIX))
      .map(([name, tensor]) => [name.slice(ONLINE_PREFIX.length), tensor]),
  );
}

export function restoreOptimizer(optimizer: Optimizer, tensors: Record<string, NamedTensor>, step: number): void {
  for (const [name, variable] of optimizer.state()) {
    if (!tensors[name]) throw new CheckpointError(`${OPTIMIZER_FILE} has no tensor ${name}`);
    const value = tf.tensor(tensors[name].data, tensors[name].shape);
    variable.assign(value);
    value.dispose();
  }
  optimizer.step = step;
}

export interface RunFiles {
  runDir: string;
  config: Config;
  info: RunInfo;
}

/** Reads a run directory's config.yaml and run.json; anything else (or a broken one) is a UserError. */
export function openRun(runDir: string): RunFiles {
  const where = { file: runDir };
  if (!fs.existsSync(runDir)) throw new UserError('run directory not found', where);
  if (!fs.statSync(runDir).isDirectory()) throw new UserError('not a directory', where);
  const missing = [CONFIG_FILE, RUN_FILE].filter((file) => !fs.existsSync(path.join(runDir, file)));
  if (missing.length > 0) throw new UserError(`not a run directory (no ${missing.join(' or ')})`, where);
  const config = parseConfig(readConfigFile(path.join(runDir, CONFIG_FILE)), path.join(runDir, CONFIG_FILE));
  let info: RunInfo;
  try {
    info = readRunInfo(runDir);
  } catch (error) {
    throw new UserError(`unreadable (${(error as Error).message})`, { file: path.join(runDir, RUN_FILE) });
  }
  return { runDir, config, info };
}

export interface ResumePoint extends RunFiles {
  /** Null when the run stopped before its first checkpoint: it starts over from step 0. */
  checkpoint: Checkpoint | null;
}

/** The config a checkpoint's model file records (the one it was trained with), or null when none is readable. */
function trainedConfig(runDir: string): Record<string, unknown> | null {
  for (const candidate of listCheckpoints(runDir)) {
    try {
      const text = readCheckpoint(candidate.dir).metadata.config;
      if (text !== undefined) return JSON.parse(text) as Record<string, unknown>;
    } catch {
      // A damaged checkpoint: try the one before.
    }
  }
  return null;
}

/**
 * Refuses to resume (or fork) a run whose config.yaml no longer hashes to the `config_sha256` run.json recorded when it
 * started (lr or the seed edited between sessions: the checkpoints were trained with another config). Names the
 * fields that differ, from the config a checkpoint recorded. A run from before config hashes is not checked.
 */
export function checkConfigUnchanged(run: RunFiles): void {
  const recorded = run.info.config_sha256;
  if (recorded === undefined || recorded === configHash(run.config)) return;
  const file = path.join(run.runDir, CONFIG_FILE);
  const trained = trainedConfig(run.runDir);
  const advice = `restore ${CONFIG_FILE}, or start a new run with --config`;
  if (trained === null) {
    throw new UserError(`no longer matches the config the run started with (run.json's config_sha256); ${advice}`, { file });
  }
  const [before, now] = [flattenConfig(trained), flattenConfig(run.config as unknown as Record<string, unknown>)];
  const changed = [...new Set([...Object.keys(before), ...Object.keys(now)])]
    .filter((key) => key !== 'backend' && key !== 'device' && before[key] !== now[key])
    .map((key) => `${key} was ${before[key] ?? '(unset)'}, is ${now[key] ?? '(unset)'}`);
  throw new UserError(`no longer matches the config the run was trained with (${changed.join('; ') || 'a field changed'}); ${advice}`, {
    file,
  });
}

/**
 * Everything `train --resume` needs, checked before anything is written: the run's config.yaml, unchanged since
 * the run started, and its newest usable checkpoint. A finished run has nothing to resume.
 */
export function prepareResume(runDir: string, warn: (line: string) => void = () => {}): ResumePoint {
  const run = openRun(runDir);
  checkConfigUnchanged(run);
  const experiment = prepareExperiment(run.config);
  const checkpoint = latestCheckpoint(runDir, expectedParameters(experiment.model), warn, optimizerLayout(run.config));
  if (run.info.status === 'finished' && checkpoint?.step === run.config.train.steps) {
    throw new UserError(`the run already finished all ${run.config.train.steps} steps; nothing to resume`, { file: runDir });
  }
  return { ...run, checkpoint };
}

export interface LoadedRun {
  runDir: string;
  config: Config;
  experiment: Experiment;
  model: Gpt;
  /** The step of the checkpoint the weights come from. */
  step: number;
  backend: string;
  info: RunInfo;
}

export interface LoadRunOptions {
  /** A specific checkpoint step; default the newest usable one. */
  step?: number;
  /** The tfjs backend to load onto; default the one the run trained on. */
  backend?: BackendName;
  /** Where the torch backend keeps tensors; default the run's config. */
  device?: DeviceName;
  /** Receives warning lines (a skipped unusable checkpoint). */
  log?: (line: string) => void;
  /** Passes through the layers, instead of the run's model.recurrence (a looped model can run more). */
  recurrence?: number;
}

/**
 * Loads a trained model from a run directory for evaluation and probes: the run's config, its experiment
 * (tokenizer, format, task), and a Gpt holding the checkpoint's weights. Selects the backend the run used unless
 * told otherwise. The caller owns the model (`model.dispose()`).
 */
export async function loadRun(runDir: string, options: LoadRunOptions = {}): Promise<LoadedRun> {
  const opened = openRun(runDir);
  const { recurrence } = options;
  // The weights do not depend on the number of passes, so the checkpoint loads into a model that runs more.
  const run =
    recurrence === undefined ? opened : { ...opened, config: { ...opened.config, model: { ...opened.config.model, recurrence } } };
  const experiment = prepareExperiment(run.config);
  const expected = expectedParameters(experiment.model);
  const layout = optimizerLayout(run.config);
  let checkpoint: Checkpoint | null;
  if (options.step !== undefined) {
    const found = listCheckpoints(runDir).find((c) => c.step === options.step);
    if (!found) {
      const available = listCheckpoints(runDir)
        .map((c) => c.step)
        .reverse();
      throw new UserError(`no checkpoint at step ${options.step} (available: ${available.join(', ') || 'none'})`, { file: runDir });
    }
    try {
      checkpoint = readCheckpoint(found.dir, expected, layout);
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      throw new UserError(`checkpoint ${path.basename(found.dir)} is unusable: ${error.message}`, { file: runDir });
    }
  } else {
    checkpoint = latestCheckpoint(runDir, expected, options.log, layout);
    if (!checkpoint) throw new UserError('the run has no checkpoint yet', { file: runDir });
  }
  const backendName = options.backend ?? ((run.info.backend || run.config.backend) as BackendName);
  const backend = await selectBackend(backendName, options.log, options.device ?? run.config.device ?? 'cpu');
  const model = new Gpt(experiment.model, run.config.seed);
  restoreModel(model, checkpoint.model);
  return { runDir, config: run.config, experiment, model, step: checkpoint.step, backend, info: run.info };
}
