import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import type { TokenBatch } from '../src/data/batches.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../src/data/dataset.ts';
import { UserError } from '../src/errors.ts';
import { trainingBatch } from '../src/experiments/train.ts';
import type { AuxLossSpec } from '../src/models/auxLoss.ts';
import type { OptimizerSettings } from '../src/experiments/optimizer.ts';
import type { Gpt, GptConfig } from '../src/models/gpt.ts';
import { defaultPositionalOptions } from '../src/models/positional/index.ts';
import { createRandom } from '../src/random.ts';

/** The token ids the benchmarks draw from (about the size of a format's vocabulary). */
export const BENCH_VOCAB = 20;

const shape = (layers: number, heads: number, dModel: number): GptConfig => ({
  layers,
  heads,
  dModel,
  dFf: 4 * dModel,
  dropout: 0,
  maxLen: 64,
  pos: 'nope',
  ...defaultPositionalOptions(),
  tieEmbeddings: true,
  vocabSize: BENCH_VOCAB,
});

/** The models the benchmarks time: the config schema's default shape (small) and a 6-layer, d_model 384 one (large). */
export const BENCH_MODELS: Record<string, GptConfig> = {
  small: shape(2, 4, 128),
  large: shape(6, 6, 384),
};

/** What one bench entry trains: a model, its batches and its optimizer settings. */
export interface BenchModel {
  /** `small`, `large`, or `config:<name>` for configs/<name>.yaml. */
  name: string;
  config: GptConfig;
  seed: number;
  /** Where the batches come from, for the report. */
  batchSource: string;
  lr: number;
  gradClip: number;
  optimizer: OptimizerSettings;
  aux: AuxLossSpec | null;
  dropoutSeed: (step: number) => number;
  /** The batches of steps 1..count (position ids are drawn by the model's encoding, so it takes the model). */
  drawBatches: (model: Gpt, count: number) => TokenBatch[];
}

const BATCH = 64;
const SEQ = 32;

/** One batch of random tokens, [64, 32], every target in the loss; reused for every step. */
function syntheticBatch(): TokenBatch {
  const random = createRandom(0, 'bench');
  const size = BATCH * SEQ;
  const inputs = Int32Array.from({ length: size }, () => random.int(3, BENCH_VOCAB - 1));
  const targets = Int32Array.from({ length: size }, () => random.int(3, BENCH_VOCAB - 1));
  const ones = new Float32Array(size).fill(1);
  return { batch: BATCH, seqLen: SEQ, inputs, targets, lossMask: ones, answerMask: ones };
}

function syntheticModel(name: string): BenchModel {
  return {
    name,
    config: BENCH_MODELS[name],
    seed: 0,
    batchSource: `synthetic: one batch of random tokens, ${BATCH} x ${SEQ}`,
    lr: 1e-3,
    gradClip: 1,
    optimizer: { beta1: 0.9, beta2: 0.99, weight_decay: 0.1 },
    aux: null,
    dropoutSeed: (step) => step,
    drawBatches: (_model, count) => Array.from({ length: count }, syntheticBatch),
  };
}

/**
 * A config's model trained as `arith-lab train` trains it: its seed's training stream (held-out problems
 * excluded), the batch of each step with the position ids its encoding draws for training, its batch size,
 * learning rate, clipping, AdamW settings and auxiliary loss. Only the learning-rate schedule is left out (the
 * peak rate throughout), which changes no step's work.
 */
function configModel(name: string, file: string): BenchModel {
  const config = loadConfig(file);
  const experiment = prepareExperiment(config);
  const t = config.train;
  return {
    name,
    config: experiment.model,
    seed: config.seed,
    batchSource: `training batches of ${file} (batch ${t.batch})`,
    lr: t.lr,
    gradClip: t.grad_clip,
    optimizer: { beta1: t.beta1, beta2: t.beta2, weight_decay: t.weight_decay, muon: t.muon },
    aux: t.aux_loss,
    dropoutSeed: (step) => config.seed * 1_000_003 + step,
    drawBatches: (model, count) => {
      const stream = new TrainStream(experiment.task, config.seed, heldOutKeys(buildTestSets(experiment.task, config.seed)));
      return Array.from({ length: count }, (_, i) => trainingBatch(model, experiment, stream.next(t.batch, i + 1), i + 1));
    },
  };
}

/** The configs issue-sized runs train: configs/addition-*.yaml and configs/multiplication-reversed.yaml. */
function shippedConfigs(folder: string): string[] {
  const names = fs.existsSync(folder) ? fs.readdirSync(folder) : [];
  const chosen = names.filter((file) => /^addition-.*\.yaml$/.test(file) || file === 'multiplication-reversed.yaml');
  return chosen.sort().map((file) => `config:${file.replace(/\.yaml$/, '')}`);
}

/**
 * The bench's --models list: `small`, `large`, `config:<name>` (configs/<name>.yaml, or a path to a .yaml file),
 * and `configs` for every shipped config above. Unknown names fail before anything is timed.
 */
export function resolveBenchModels(list: string, configFolder = 'configs'): BenchModel[] {
  const names = list.split(',').filter(Boolean);
  const expanded = names.flatMap((name) => (name === 'configs' ? shippedConfigs(configFolder) : [name]));
  return [...new Set(expanded)].map((name) => {
    if (Object.hasOwn(BENCH_MODELS, name)) return syntheticModel(name);
    if (name.startsWith('config:')) {
      const given = name.slice('config:'.length);
      const file = /\.ya?ml$/.test(given) ? given : path.join(configFolder, `${given}.yaml`);
      if (!fs.existsSync(file)) throw new UserError(`--models: ${name}: no config file ${file}`);
      return configModel(name, file);
    }
    throw new UserError(
      `--models: unknown model "${name}"; expected small, large, config:<name> (a file of ${configFolder}/) or configs (${configFolder}/addition-*.yaml and multiplication-reversed.yaml)`,
    );
  });
}
