export interface ScheduleSpec {
  lr: number;
  minLr: number;
  warmup: number;
  steps: number;
  /** Warmup-stable-decay: the share of the steps after warmup over which the rate falls; absent: cosine. */
  cooldown?: number;
}

/**
 * Learning rate for step s (1-based): linear warmup to `lr` over `warmup` steps, then cosine decay to `minLr`
 * at the last step (nanoGPT's schedule, as used by Lee'23). With `cooldown`, warmup-stable-decay instead: `lr`
 * held until the last `cooldown` share of the steps after warmup, which fall to `minLr` as 1 - sqrt(progress)
 * (Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations"). A run held
 * at `lr` can be forked into its cooldown at any step (`arith-lab train --fork`), which cosine does not allow.
 */
export function learningRate(step: number, spec: ScheduleSpec): number {
  if (spec.warmup > 0 && step <= spec.warmup) return (spec.lr * step) / spec.warmup;
  const decaySteps = Math.max(1, spec.steps - spec.warmup);
  if (spec.cooldown !== undefined) {
    const coolSteps = Math.max(1, Math.round(spec.cooldown * decaySteps));
    const coolFrom = spec.steps - coolSteps;
    if (step <= coolFrom) return spec.lr;
    const progress = Math.min(1, (step - coolFrom) / coolSteps);
    return spec.minLr + (spec.lr - spec.minLr) * (1 - Math.sqrt(progress));
  }
  const progress = Math.min(1, (step - spec.warmup) / decaySteps);
  return spec.minLr + 0.5 * (spec.lr - spec.minLr) * (1 + Math.cos(Math.PI * progress));
}
