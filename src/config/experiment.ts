import { dataSetup, type DataSetup } from './dataSetup.ts';
import { positionalOptions } from './positionalOptions.ts';
import type { Config } from './schema.ts';
import type { GptConfig } from '../models/gpt.ts';

/** Everything a run derives from its config before touching tensors: the data side and the model. Pure and cheap. */
export interface Experiment extends DataSetup {
  config: Config;
  model: GptConfig;
}

export function prepareExperiment(config: Config): Experiment {
  const data = dataSetup(config);
  const m = config.model;
  const model: GptConfig = {
    layers: m.layers,
    heads: m.heads,
    dModel: m.d_model,
    dFf: m.d_ff ?? 4 * m.d_model,
    ...(m.mlp && { mlp: m.mlp }),
    dropout: m.dropout,
    maxLen: m.max_len,
    pos: m.pos,
    ...positionalOptions(m),
    tieEmbeddings: m.tie_embeddings,
    recurrence: m.recurrence,
    lengthScaledAttention: m.length_scaled_attention,
    vocabSize: data.tokenizer.size,
    ...(config.train.aux_loss && { auxHead: config.train.aux_loss.read }),
    ...(Array.isArray(config.train.aux_loss?.layer) && { auxLayers: config.train.aux_loss.layer }),
  };
  return { config, ...data, model };
}
