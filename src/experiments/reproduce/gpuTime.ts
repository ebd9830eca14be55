import { longestSequence } from '../../config/dataSetup.ts';
import { prepareExperiment } from '../../config/experiment.ts';
import type { Config } from '../../config/schema.ts';
import { testLengths, testSetSize } from '../../data/dataset.ts';
import { totalWidth } from '../../models/mlp.ts';

/**
 * An estimate, not a measurement, of the GPU time one run of a config takes: its floating-point operations
 * divided by an assumed sustained throughput. `reproduce --dry-run --profile paper` prints it per cell, so a
 * researcher can size a GPU booking before starting a table.
 *
 * FLOPs per token of one forward pass (Kaplan et al. 2020, "Scaling Laws for Neural Language Models", without
 * the embedding lookups): 2 × R·L·(4·d² + 2·d·d_ff) for the weights of L layers run R times (looped models), plus
 * 2 × R·L·T·d for the attention scores and their weighted sum over a context of T tokens, plus 2 × d·V for the
 * output projection. A training step costs 3 forward passes (forward, and a backward twice as costly) over
 * batch × T tokens, T the longest training sequence (a batch is padded to its longest). Evaluation adds one
 * forward pass per token of every held-out problem (greedy decoding with a key/value cache): `eval_size` per
 * test length at each periodic evaluation, `test_size` at the end. Probes are not counted.
 *
 * The throughput is an assumption: float32 (the torch engine does not use TF32 or half precision) on an
 * H100/H200-class GPU, about 60 TFLOP/s at peak, at a third of it. Small models (one layer of d_model 512) are
 * bound by kernel launches rather than arithmetic and take longer than this says; none of it was measured here.
 */

/** Sustained float32 operations per second the estimate assumes (see the file comment). */
export const ASSUMED_GPU_FLOPS = 20e12;

/** Forward-pass FLOPs per token at a context of `context` tokens. */
function forwardFlopsPerToken(config: Config, vocabulary: number, context: number): number {
  const { layers, d_model: d, recurrence } = config.model;
  const widths = totalWidth(config.model.d_ff ?? 4 * d, layers);
  const passes = recurrence * layers;
  return 2 * passes * 4 * d * d + 2 * recurrence * 2 * d * widths + 2 * passes * context * d + 2 * d * vocabulary;
}

export interface GpuEstimate {
  /** Training and evaluation FLOPs of the whole run. */
  flops: number;
  /** flops / ASSUMED_GPU_FLOPS. */
  seconds: number;
}

export function estimateGpuTime(config: Config): GpuEstimate {
  const experiment = prepareExperiment(config);
  const vocabulary = experiment.tokenizer.size;
  const { train } = config;
  const trainTokens = longestSequence(experiment, config.task.train_digits[1]);
  const training = train.steps * train.batch * trainTokens * 3 * forwardFlopsPerToken(config, vocabulary, trainTokens);
  const evaluations = Math.floor(train.steps / train.eval_every);
  let evaluation = 0;
  for (const digits of testLengths(experiment.task)) {
    const tokens = longestSequence(experiment, digits);
    const problems = evaluations * Math.min(train.eval_size, testSetSize(experiment.task, digits)) + testSetSize(experiment.task, digits);
    evaluation += problems * tokens * forwardFlopsPerToken(config, vocabulary, tokens);
  }
  const flops = training + evaluation;
  return { flops, seconds: flops / ASSUMED_GPU_FLOPS };
}
