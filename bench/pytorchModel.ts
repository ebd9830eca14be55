import type { TokenBatch } from '../src/data/batches.ts';
import { positionalNames } from '../src/models/positional/index.ts';
import type { BenchModel } from './models.ts';

/** The positional encodings bench/pytorch_bench.py builds, alone or combined. */
const PYTORCH_ENCODINGS = ['nope', 'ape', 'sinusoidal', 'alibi', 'rope', 't5', 'fire', 'abacus', 'coupled'];

/** Why bench/pytorch_bench.py cannot train the same model on these batches, or null when it can. */
export function pytorchSkipReason(model: BenchModel, _batches: readonly TokenBatch[]): string | null {
  const c = model.config;
  const names = positionalNames(c.pos);
  const unknown = names.filter((name) => !PYTORCH_ENCODINGS.includes(name));
  if (unknown.length > 0) return `pytorch_bench.py builds ${PYTORCH_ENCODINGS.join(', ')}, not model.pos ${unknown.join('+')}`;
  if ((c.recurrence ?? 1) !== 1) return 'pytorch_bench.py has no looped layers (model.recurrence)';
  if (c.dropout > 0) return 'pytorch_bench.py has no dropout';
  if ((c.mlp ?? 'gelu') !== 'gelu') return `pytorch_bench.py builds the GELU MLP, not model.mlp ${c.mlp}`;
  if (c.lengthScaledAttention) return 'pytorch_bench.py has no length-scaled attention (model.length_scaled_attention)';
  if (model.aux) return 'pytorch_bench.py has no auxiliary loss (train.aux_loss)';
  if (model.optimizer.muon) return 'pytorch_bench.py has no Muon (train.muon)';
  return null;
}

/** pytorch_bench.py's arguments for this model, its batches in `batchesFile` (see batchesJson) or, null, none (--lockstep). */
export function pytorchArguments(model: BenchModel, batchesFile: string | null): string[] {
  const c = model.config;
  return [
    ...['--layers', c.layers, '--heads', c.heads, '--d-model', c.dModel, '--d-ff', c.dFf, '--vocab', c.vocabSize],
    ...['--pos', positionalNames(c.pos).join('+'), '--max-len', c.maxLen],
    ...['--rope-fraction', c.ropeFraction, '--rope-base', c.ropeBase],
    ...['--max-position', c.maxPosition, '--attention-ids', c.attentionIds, ...(c.roleTable ? [] : ['--no-role-table'])],
    ...['--t5-buckets', c.t5Buckets, '--t5-max-distance', c.t5MaxDistance, '--t5-scale', c.t5Scale],
    ...(c.t5Bidirectional ? ['--t5-bidirectional'] : []),
    ...['--fire-mlp-width', c.fireMlpWidth, '--fire-c', c.fireC, '--fire-l', c.fireL],
    ...(c.tieEmbeddings ? [] : ['--untied']),
    ...['--lr', model.lr, '--grad-clip', model.gradClip, '--beta1', model.optimizer.beta1, '--beta2', model.optimizer.beta2],
    ...['--weight-decay', model.optimizer.weight_decay, ...(batchesFile === null ? [] : ['--batches', batchesFile])],
  ].map(String);
}

/** One batch as pytorch_bench.py reads it: flat row-major lists. */
function batchEntry(b: TokenBatch) {
  return {
    batch: b.batch,
    seq: b.seqLen,
    inputs: Array.from(b.inputs),
    targets: Array.from(b.targets),
    loss_mask: Array.from(b.lossMask),
    ...(b.positions ? { positions: Array.from(b.positions) } : {}),
  };
}

/** The batches as pytorch_bench.py's --batches reads them. */
export function batchesJson(batches: readonly TokenBatch[]): string {
  return JSON.stringify(batches.map(batchEntry));
}

/** One batch as a line of pytorch_bench.py --lockstep's input. */
export function batchLine(batch: TokenBatch): string {
  return `${JSON.stringify(batchEntry(batch))}\n`;
}
