export interface ScheduleSpec {
  lr: number;
  minLr: number;
  warmup: number;
  steps: number;
}

/**
 * Learning rate for step s (1-based): linear warmup to `lr` over `warmup` steps, then cosine decay to `minLr`
 * at the last step (nanoGPT's schedule, as used by Lee'23).
 */
export function learningRate(step: number, spec: ScheduleSpec): number {
  if (spec.warmup > 0 && step <= spec.warmup) return (spec.lr * step) / spec.warmup;
  const decaySteps = Math.max(1, spec.steps - spec.warmup);
  const progress = Math.min(1, (step - spec.warmup) / decaySteps);
  return spec.minLr + 0.5 * (spec.lr - spec.minLr) * (1 + Math.cos(Math.PI * progress));
}
