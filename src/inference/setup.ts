import type { DataFormat, FormatOptions } from '../data/formats/format.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import type { GptConfig } from '../models/gpt.ts';
import type { PositionalOptions } from '../models/positional/index.ts';

/**
 * What inference reads of a run: how a problem is written and tokenized, and where the model's positions end.
 * A run's Experiment is one; inference asks for no more, so it needs nothing from training.
 */
export interface InferenceSetup {
  format: DataFormat;
  formatOptions: FormatOptions;
  tokenizer: Tokenizer;
  /** Where positions end, how the encoding draws position ids, and the sizes that say what decoding a long problem costs in memory. */
  model: Pick<GptConfig, 'pos' | 'maxLen' | 'layers' | 'heads' | 'dModel' | 'dFf' | 'vocabSize'> & PositionalOptions;
}
