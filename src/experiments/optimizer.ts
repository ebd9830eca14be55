import type * as tf from '@tensorflow/tfjs';
import type { Config } from '../config/schema.ts';
import { AdamW, type Optimizer } from './adamw.ts';
import { Muon } from './muon.ts';

/** The optimizer settings of a config's `train` section. */
export type OptimizerSettings = Pick<Config['train'], 'beta1' | 'beta2' | 'weight_decay' | 'muon'>;

/** AdamW for every parameter, or with `muon` set Muon for the blocks' matrices and AdamW for the rest. */
export function createOptimizer(params: Record<string, tf.Variable>, settings: OptimizerSettings): Optimizer {
  const adamw = { beta1: settings.beta1, beta2: settings.beta2, epsilon: 1e-8, weightDecay: settings.weight_decay };
  return settings.muon
    ? new Muon(params, adamw, { momentum: settings.muon.momentum, nsSteps: settings.muon.ns_steps })
    : new AdamW(params, adamw);
}
