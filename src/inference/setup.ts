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
  model: Pick<GptConfig, 'pos' | 'maxLen'> & PositionalOptions;
}
