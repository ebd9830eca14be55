import type { TokenBatch } from '../src/data/batches.ts';
import { positionalNames } from '../src/models/positional/index.ts';
import type { BenchModel } from './models.ts';

/** The positional encodings bench/pytorch_bench.py builds. */
const PYTORCH_ENCODINGS = ['nope', 'ape', 'sinusoidal', 'alibi', 'rope'];

/** Why bench/pytorch_bench.py cannot train the same model on these batches, or null when it can. */
export function pytorchSkipReason(model: BenchModel, batches: readonly TokenBatch[]): string | null {
  const c = model.config;
  const names = positionalNames(c.pos);
  if (names.length !== 1 || !PYTORCH_ENCODINGS.includes(names[0]))
    return `pytorch_bench.py builds ${PYTORCH_ENCODINGS.join(', ')}, not model.pos ${names.join('+')}`;
  if (c.pos !== 'nope' && c.randomPositions) return 'pytorch_bench.py has no randomized positions (model.random_positions)';
  if (batches.some((batch) => batch.positions)) return 'pytorch_bench.py reads no position ids of the batch';
  if ((c.recurrence ?? 1) !== 1) return 'pytorch_bench.py has no looped layers (model.recurrence)';
  if (c.dropout > 0) return 'pytorch_bench.py has no dropout';
  if (model.aux) return 'pytorch_bench.py has no auxiliary loss (train.aux_loss)';
  return null;
}

/** pytorch_bench.py's arguments for this model, its batches in `batchesFile` (see batchesJson). */
export function pytorchArguments(model: BenchModel, batchesFile: string): string[] {
  const c = model.config;
  const pos = positionalNames(c.pos)[0];
  return [
    ...['--layers', c.layers, '--heads', c.heads, '--d-model', c.dModel, '--d-ff', c.dFf, '--vocab', c.vocabSize],
    ...['--pos', pos, '--max-len', c.maxLen, '--rope-fraction', c.ropeFraction, '--rope-base', c.ropeBase],
    ...(c.tieEmbeddings ? [] : ['--untied']),
    ...['--lr', model.lr, '--grad-clip', model.gradClip, '--beta1', model.optimizer.beta1, '--beta2', model.optimizer.beta2],
    ...['--weight-decay', model.optimizer.weightDecay, '--batches', batchesFile],
  ].map(String);
}

/** The batches as pytorch_bench.py's --batches reads them. */
export function batchesJson(batches: readonly TokenBatch[]): string {
  return JSON.stringify(
    batches.map((b) => ({
      batch: b.batch,
      seq: b.seqLen,
      inputs: Array.from(b.inputs),
      targets: Array.from(b.targets),
      loss_mask: Array.from(b.lossMask),
    })),
  );
}
