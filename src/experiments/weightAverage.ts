import * as tf from '@tensorflow/tfjs';
import { Gpt } from '../models/gpt.ts';

export interface WeightAverageOptions {
  /** Weight of the old average at each update once warmed up. */
  decay: number;
  /** Update every this many optimizer steps. */
  every: number;
}

/**
 * The decay of the n-th update (n from 1): min(decay, (1 + n) / (10 + n)), as TensorFlow's
 * ExponentialMovingAverage with num_updates, so the early average follows the weights instead of remembering
 * the random initialization for thousands of steps.
 */
export function averageDecay(decay: number, update: number): number {
  return Math.min(decay, (1 + update) / (10 + update));
}

/**
 * An exponential moving average of the weights (Polyak averaging; "EMA" in most training scripts), kept in a
 * second model of the same shape. The average is what the run evaluates and saves as its model; the optimizer
 * keeps training the online weights. Updating only every `every` steps keeps its cost per step small (one
 * update is three kernels per parameter).
 */
export class WeightAverage {
  readonly model: Gpt;

  constructor(
    online: Gpt,
    seed: number,
    private readonly options: WeightAverageOptions,
  ) {
    this.model = new Gpt(online.config, seed);
    this.copyFrom(online);
  }

  /** Sets the average to the online weights (the start of training). */
  copyFrom(online: Gpt): void {
    for (const [name, variable] of Object.entries(this.model.params)) variable.assign(online.params[name]);
  }

  /** After optimizer step `step`: folds the online weights into the average when the step is an update step. */
  update(online: Gpt, step: number): void {
    if (step % this.options.every !== 0) return;
    const decay = averageDecay(this.options.decay, step / this.options.every);
    tf.tidy(() => {
      for (const [name, average] of Object.entries(this.model.params)) {
        average.assign(tf.add(tf.mul(average, decay), tf.mul(online.params[name], 1 - decay)));
      }
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}
