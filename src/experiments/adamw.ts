import * as tf from '@tensorflow/tfjs';
import { fusedAdamW, fusedGlobalNorm, fusedScaleAll, useFused } from '../models/fused.ts';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

/** What training, checkpoints and resume need of an optimizer. */
export interface Optimizer {
  /** Steps taken (a resume sets it). */
  step: number;
  apply(grads: Record<string, tf.Tensor>, learningRate: number): void;
  /** The state a checkpoint saves and a resume restores, by its name in optimizer.safetensors. */
  state(): [string, tf.Variable][];
  dispose(): void;
}

/**
 * AdamW (Loshchilov & Hutter): Adam with weight decay applied to the weights directly, not through the
 * gradient. As in nanoGPT, only parameters of rank >= 2 (matrices and embedding tables) are decayed.
 */
export class AdamW implements Optimizer {
  step = 0;
  readonly firstMoments: Record<string, tf.Variable> = {};
  readonly secondMoments: Record<string, tf.Variable> = {};

  constructor(
    private readonly params: Record<string, tf.Variable>,
    readonly options: AdamWOptions,
  ) {
    for (const [name, param] of Object.entries(params)) {
      this.firstMoments[name] = tf.tidy(() => tf.variable(tf.zerosLike(param), false));
      this.secondMoments[name] = tf.tidy(() => tf.variable(tf.zerosLike(param), false));
    }
  }

  apply(grads: Record<string, tf.Tensor>, learningRate: number): void {
    this.step += 1;
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const correction1 = 1 - Math.pow(beta1, this.step);
    const correction2 = 1 - Math.pow(beta2, this.step);
    if (useFused('adamw')) {
      // One kernel for every parameter, updating weights and moments in place.
      const names = Object.keys(this.params).filter((name) => grads[name]);
      const params = names.map((name) => this.params[name]);
      const step = { lr: learningRate, beta1, beta2, epsilon, weightDecay, correction1, correction2 };
      fusedAdamW(
        params,
        names.map((name) => grads[name]),
        names.map((name) => this.firstMoments[name]),
        names.map((name) => this.secondMoments[name]),
        params.map((p) => p.rank >= 2),
        step,
      );
      return;
    }
    tf.tidy(() => {
      for (const [name, param] of Object.entries(this.params)) {
        const grad = grads[name];
        if (!grad) continue;
        const m = this.firstMoments[name];
        const v = this.secondMoments[name];
        const mNext = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
        const vNext = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
        m.assign(mNext);
        v.assign(vNext);
        const update = tf.div(tf.div(mNext, correction1), tf.add(tf.sqrt(tf.div(vNext, correction2)), epsilon));
        const decayed = param.rank >= 2 && weightDecay > 0 ? tf.mul(param, 1 - learningRate * weightDecay) : param;
        param.assign(tf.sub(decayed, tf.mul(update, learningRate)));
      }
    });
  }

  state(): [string, tf.Variable][] {
    return [
      ...Object.entries(this.firstMoments).map(([name, m]): [string, tf.Variable] => [`adam.m.${name}`, m]),
      ...Object.entries(this.secondMoments).map(([name, v]): [string, tf.Variable] => [`adam.v.${name}`, v]),
    ];
  }

  dispose(): void {
    for (const v of [...Object.values(this.firstMoments), ...Object.values(this.secondMoments)]) v.dispose();
  }
}

/**
 * Scales gradients so their global L2 norm is at most maxNorm; returns the norm before clipping.
 * The norm is read asynchronously: on tfjs-webgpu in Node a synchronous read throws (no OffscreenCanvas).
 */
export async function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): Promise<{ grads: Record<string, tf.Tensor>; norm: number }> {
  // Pairwise adds, not tf.addN: WebGPU binds every addN input as a storage buffer, and Dawn allows 8 per shader.
  const fused = useFused('grad-norm');
  const normTensor = fused
    ? fusedGlobalNorm(Object.values(grads))
    : tf.tidy(() =>
        tf.sqrt(
          Object.values(grads)
            .map((g) => tf.sum(tf.square(g)))
            .reduce((a, b) => tf.add(a, b)),
        ),
      );
  let norm: number;
  try {
    norm = (await normTensor.data())[0];
  } finally {
    normTensor.dispose();
  }
  if (!(maxNorm > 0) || norm <= maxNorm || !Number.isFinite(norm)) return { grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  const clipped: Record<string, tf.Tensor> = {};
  if (fused) {
    const scaled = fusedScaleAll(Object.values(grads), scale);
    Object.keys(grads).forEach((name, i) => (clipped[name] = scaled[i]));
    tf.dispose(Object.values(grads));
    return { grads: clipped, norm };
  }
  for (const [name, g] of Object.entries(grads)) {
    clipped[name] = tf.mul(g, scale);
    g.dispose();
  }
  return { grads: clipped, norm };
}
