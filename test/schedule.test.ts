import { describe, expect, it } from 'vitest';
import { learningRate } from '../src/experiments/schedule.ts';

// 1,100 steps: 100 of warmup to 1e-3, then 1,000 down to 1e-5.
const base = { lr: 1e-3, minLr: 1e-5, warmup: 100, steps: 1100 };

describe('the learning-rate schedule', () => {
  it('cosine: linear warmup, the peak at its end, half way at the middle, min_lr at the last step', () => {
    expect(learningRate(50, base)).toBeCloseTo(5e-4, 12);
    expect(learningRate(100, base)).toBeCloseTo(1e-3, 12);
    expect(learningRate(600, base)).toBeCloseTo((1e-3 + 1e-5) / 2, 12);
    expect(learningRate(1100, base)).toBeCloseTo(1e-5, 12);
    expect(learningRate(101, base)).toBeLessThan(1e-3);
  });

  it('warmup-stable-decay: the same warmup, the peak held until the cooldown, then 1 - sqrt(progress) to min_lr', () => {
    const wsd = { ...base, cooldown: 0.2 }; // the last 200 steps fall: from step 900 on
    expect(learningRate(50, wsd)).toBeCloseTo(5e-4, 12);
    for (const step of [100, 101, 500, 899, 900]) expect(learningRate(step, wsd), `step ${step}`).toBe(1e-3);
    // A quarter of the way down the cooldown, sqrt(0.25) = 0.5 of the way from the peak to min_lr.
    expect(learningRate(950, wsd)).toBeCloseTo(1e-5 + 0.5 * (1e-3 - 1e-5), 12);
    expect(learningRate(1000, wsd)).toBeCloseTo(1e-5 + (1 - Math.sqrt(0.5)) * (1e-3 - 1e-5), 12);
    expect(learningRate(1100, wsd)).toBeCloseTo(1e-5, 12);
    // The whole run after warmup as cooldown: it falls from the first step past warmup.
    expect(learningRate(101, { ...base, cooldown: 1 })).toBeLessThan(1e-3);
    expect(learningRate(100, { ...base, cooldown: 1 })).toBe(1e-3);
  });
});
