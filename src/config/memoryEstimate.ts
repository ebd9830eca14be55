import os from 'node:os';
import v8 from 'node:v8';
import { testLengths, testSetSize, type TaskSpec } from '../data/dataset.ts';
import type { GptConfig } from '../models/gpt.ts';
import { parameterSpecs } from '../models/gpt.ts';
import { totalWidth, widestWidth } from '../models/mlp.ts';
import { getPositionalEncoding } from '../models/positional/index.ts';
import { UserError } from '../errors.ts';
import { longestSequence } from './dataSetup.ts';
import { prepareExperiment } from './experiment.ts';
import type { Config } from './schema.ts';

const FLOAT = 4;
/** Weights, gradients and AdamW's two moments: four float32 copies of every parameter while training. */
const TRAINING_COPIES = 4;
/**
 * Floats autograd keeps per token and layer, beyond the attention scores: LayerNorm inputs and outputs, q, k, v,
 * the attention output, the residual adds (about 16 x d_model), and the MLP's pre- and post-GELU (2 x d_ff).
 */
const ACTIVATION_WIDTHS = { dModel: 16, dFf: 2 };
/** Attention scores per head and query, kept as logits, softmax and (with dropout) mask. */
const SCORE_COPIES = 3;
/** JavaScript heap per generated problem: the object, two BigInts, its key in the disjointness Set. */
const BYTES_PER_PROBLEM = 200;
/** V8 cannot hold more entries than this in one Set, and the held-out keys and a fixed training set live in one. */
export const MAX_SET_ENTRIES = 2 ** 24;
/** Share of physical memory one `predict` question may take to decode. */
const DECODE_SHARE = 0.25;
/** tfjs-backend-wasm is 32-bit WebAssembly: its heap ends at 4 GiB whatever the machine has. */
const WASM_MEMORY = 4 * 2 ** 30;
/** No single accelerator holds more than this (an H200 has 141 GB). */
const GPU_MEMORY = 256 * 2 ** 30;

/** One part of the estimate, with the config field that sizes it (the one to lower). */
export interface MemoryTerm {
  field: string;
  what: string;
  bytes: number;
  /** Where it lives: tensors (the backend's memory) or the JavaScript heap (problems, token arrays). */
  pool: 'tensors' | 'heap';
}

export interface MemoryLimits {
  tensors: number;
  heap: number;
}

/**
 * What this machine and process allow: physical memory for tensors (4 GiB on wasm; on a GPU, whose memory Node
 * cannot see, the most any one accelerator holds), V8's heap limit for the rest.
 */
export function machineLimits(config: Pick<Config, 'backend' | 'device'>): MemoryLimits {
  const physical = os.totalmem();
  const gpu = config.backend === 'webgpu' || (config.device === 'cuda' && ['torch', 'auto'].includes(config.backend));
  return {
    tensors: gpu ? GPU_MEMORY : config.backend === 'wasm' ? Math.min(physical, WASM_MEMORY) : physical,
    heap: v8.getHeapStatistics().heap_size_limit,
  };
}

/** `2.1 GB`, `640 MB`: sizes for messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e12) return `${(bytes / 1e12).toLocaleString('en-US', { maximumFractionDigits: 1 })} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  return `${Math.max(1, Math.round(bytes / 1e6))} MB`;
}

const count = (n: number) => n.toLocaleString('en-US');

function heldOutCount(task: TaskSpec): number {
  return testLengths(task).reduce((sum, digits) => sum + testSetSize(task, digits), 0);
}

function parameterCount(model: GptConfig): { total: number; positionTable: number } {
  let total = 0;
  let positionTable = 0;
  for (const spec of parameterSpecs(model, getPositionalEncoding(model.pos))) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    total += size;
    if (spec.name === 'wpe.weight') positionTable += size;
  }
  return { total, positionTable };
}

/**
 * Memory a config needs to train, from its numbers alone (nothing is allocated): parameters with their
 * gradients and AdamW moments, one step's activations, the held-out sets and a fixed training set. An
 * estimate, close in order of magnitude: enough to refuse what cannot fit, not to promise what can.
 */
export function estimateTrainingMemory(config: Config): MemoryTerm[] {
  const experiment = prepareExperiment(config);
  const model = experiment.model;
  const { total, positionTable } = parameterCount(model);
  const tokens = longestSequence(experiment, config.task.train_digits[1]);
  const batch = config.train.batch;
  const terms: MemoryTerm[] = [];
  if (positionTable > 0) {
    terms.push({
      field: 'model.max_len',
      what: `the learned position table (${count(model.maxLen)} x ${count(model.dModel)}) with its gradient and AdamW moments`,
      bytes: positionTable * FLOAT * TRAINING_COPIES,
      pool: 'tensors',
    });
  }
  const wide = config.model.d_ff !== null && widestWidth(model.dFf) > 4 * model.dModel;
  terms.push({
    field: wide ? 'model.d_ff' : 'model.d_model',
    what: `${count(total - positionTable)} weights (${model.layers} layers, d_model ${count(model.dModel)}, d_ff ${typeof model.dFf === 'number' ? count(model.dFf) : `[${model.dFf.map(count).join(', ')}]`}) with their gradients and AdamW moments`,
    bytes: (total - positionTable) * FLOAT * TRAINING_COPIES,
    pool: 'tensors',
  });
  const perToken =
    model.layers * (ACTIVATION_WIDTHS.dModel * model.dModel + SCORE_COPIES * model.heads * tokens) +
    ACTIVATION_WIDTHS.dFf * totalWidth(model.dFf, model.layers) +
    2 * model.vocabSize;
  terms.push({
    field: 'train.batch',
    what: `one step's activations (${count(batch)} problems of up to ${count(tokens)} tokens)`,
    bytes: batch * tokens * perToken * FLOAT,
    pool: 'tensors',
  });
  // Each step's problems and their token ids (JavaScript numbers) are built on the heap before becoming tensors.
  terms.push({
    field: 'train.batch',
    what: `one step's problems and token ids (${count(batch)} problems)`,
    bytes: batch * (BYTES_PER_PROBLEM + 8 * 3 * tokens),
    pool: 'heap',
  });
  const heldOut = heldOutCount(experiment.task);
  terms.push({
    field: 'task.test_size',
    what: `${count(heldOut)} held-out problems`,
    bytes: heldOut * BYTES_PER_PROBLEM,
    pool: 'heap',
  });
  if (config.task.train_size !== null) {
    terms.push({
      field: 'task.train_size',
      what: `a fixed training set of ${count(config.task.train_size)} problems`,
      bytes: config.task.train_size * BYTES_PER_PROBLEM,
      pool: 'heap',
    });
  }
  return terms;
}

/**
 * Refuses, before anything is allocated, a config whose training cannot fit: one line naming the field that
 * needs the most, the estimate and the limit. Each pool (tensors, heap) is held to its own limit.
 */
export function checkMemory(config: Config, file: string, limits: MemoryLimits = machineLimits(config)): void {
  const heldOut = heldOutCount(prepareExperiment(config).task);
  const fixed = config.task.train_size ?? 0;
  if (heldOut + fixed > MAX_SET_ENTRIES) {
    const problems = `${count(heldOut)} held-out${fixed > 0 ? ` plus ${count(fixed)} fixed training` : ''} problems`;
    throw new UserError(`${problems} are more than the ${count(MAX_SET_ENTRIES)} distinct problems one run can keep track of`, {
      file,
      field: fixed > heldOut ? 'task.train_size' : 'task.test_size',
    });
  }
  const terms = estimateTrainingMemory(config);
  for (const pool of ['tensors', 'heap'] as const) {
    const inPool = terms.filter((term) => term.pool === pool);
    const needed = inPool.reduce((sum, term) => sum + term.bytes, 0);
    if (needed <= limits[pool]) continue;
    const largest = inPool.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const room =
      pool === 'tensors'
        ? `the ${formatBytes(limits.tensors)} of memory its tensors can have here`
        : `the JavaScript heap's ${formatBytes(limits.heap)}`;
    throw new UserError(
      `training needs about ${formatBytes(needed)}, more than ${room}; most of it (${formatBytes(largest.bytes)}) is ${largest.what}`,
      { file, field: largest.field },
    );
  }
}

type DecodeShape = Pick<GptConfig, 'layers' | 'heads' | 'dModel' | 'dFf' | 'vocabSize'>;

/**
 * Bytes to decode one sequence of `tokens` tokens greedily: the prompt's attention scores (every head, every
 * query against every key), its activations, the key/value cache and the logits.
 */
export function decodeBytes(model: DecodeShape, tokens: number): number {
  const scores = SCORE_COPIES * model.heads * tokens * tokens;
  const activations =
    tokens * (ACTIVATION_WIDTHS.dModel * model.dModel + ACTIVATION_WIDTHS.dFf * widestWidth(model.dFf) + 2 * model.vocabSize);
  const cache = 2 * model.layers * tokens * model.dModel;
  return FLOAT * (scores + activations + cache);
}

/**
 * Most memory one question may take to decode: a share of physical memory, counted as at most the 4 GiB a wasm
 * backend has (the caller may not know which backend the model is on).
 */
export function decodeBudget(): number {
  return DECODE_SHARE * Math.min(os.totalmem(), WASM_MEMORY);
}

/** The longest sequence (tokens) whose decoding fits `budget` bytes. */
export function longestDecodable(model: DecodeShape, budget: number): number {
  let lo = 1;
  let hi = 1;
  while (decodeBytes(model, hi * 2) <= budget && hi < 2 ** 40) hi *= 2;
  hi *= 2;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (decodeBytes(model, mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
