import type { GptConfig } from '../src/models/gpt.ts';
import { defaultPositionalOptions } from '../src/models/positional/index.ts';

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
