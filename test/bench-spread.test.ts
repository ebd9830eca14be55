import { describe, expect, it } from 'vitest';
import { formatSpread, medianOf, pairedRatios, roundSpread, spreadJson, stepsForRound, windowSpread } from '../bench/spread.ts';

describe("the bench's spread of rounds", () => {
  it('takes the middle round, or the mean of the two middle ones', () => {
    expect(medianOf([130, 70, 90])).toBe(90);
    expect(medianOf([124.4, 72.1, 123.2, 88.8])).toBeCloseTo(106, 10);
    expect(() => medianOf([])).toThrow(/no values/);
  });

  it('reports every round in order, min, max and the largest deviation from the median in percent', () => {
    const spread = roundSpread([100, 150, 90, 110]);
    expect(spread.rounds).toEqual([100, 150, 90, 110]);
    expect(spread.median).toBe(105);
    expect(spread.min).toBe(90);
    expect(spread.max).toBe(150);
    expect(spread.maxDeviationPercent).toBeCloseTo((100 * 45) / 105, 10);
    // The deviation below the median counts as much as above it.
    expect(roundSpread([50, 100, 110]).maxDeviationPercent).toBeCloseTo(50, 10);
    expect(roundSpread([80]).maxDeviationPercent).toBe(0);
  });

  it("pairs rounds: the reference's time over ours in each round, then their median", () => {
    // Ours swings, the reference is steady: the ratios carry the swing, round by round.
    const ratios = pairedRatios([70, 120, 75], [70, 72, 75]);
    expect(ratios.rounds).toEqual([1, 0.6, 1]);
    expect(ratios.median).toBe(1);
    expect(ratios.min).toBe(0.6);
    expect(ratios.maxDeviationPercent).toBeCloseTo(40, 10);
    // A round one side lacks is left out, not paired with another round.
    expect(pairedRatios([50, 100, 40], [75, 80]).rounds).toEqual([1.5, 0.8]);
    expect(() => pairedRatios([], [1])).toThrow(/no rounds/);
  });

  it('prints the median with its range and deviation, and writes rounded numbers to the JSON', () => {
    expect(formatSpread(roundSpread([100, 150, 90, 110]), 1)).toBe('105.0 (90.0-150.0, ±43%)');
    expect(formatSpread(roundSpread([1.234]), 2, 'x')).toBe('1.23x');
    expect(formatSpread(pairedRatios([70, 120, 75], [70, 72, 75]), 2, 'x')).toBe('1.00x (0.60-1.00, ±40%)');
    expect(spreadJson(roundSpread([100.04, 150.06, 90.01, 110.03]), 1)).toEqual({
      rounds: [100, 150.1, 90, 110],
      median: 105,
      min: 90,
      max: 150.1,
      max_deviation_percent: 42.9,
    });
  });

  it('sizes a round by time: enough steps to last the given seconds, never fewer than asked', () => {
    expect(stepsForRound(25, 4, 5)).toBe(160);
    expect(stepsForRound(24.9, 4, 5)).toBe(161);
    // A step longer than the round: the asked-for count.
    expect(stepsForRound(1600, 4, 5)).toBe(5);
    expect(stepsForRound(25, 0, 5)).toBe(5);
  });

  it('takes the median of each whole window of back-to-back samples', () => {
    // 8 ms samples: two windows of 40 ms at 8 ms, then one where the core ran at half speed, then a partial one.
    const times = [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 16, 16, 16, 8];
    let at = 0;
    const samples = times.map((ms) => {
      const sample = { at, ms };
      at += ms;
      return sample;
    });
    const spread = windowSpread(samples, 40);
    // Windows [0,40), [40,80), [80,120) hold 5, 5 and 3 samples; [120,160) ends at 136 and is left out.
    expect(spread.rounds).toEqual([8, 8, 16]);
    expect(spread.maxDeviationPercent).toBeCloseTo(100, 10);
    // One window over everything: the slow stretch is a minority and the median does not see it.
    expect(windowSpread(samples, 136).rounds).toEqual([8]);
    expect(() => windowSpread(samples, 1000)).toThrow(/no whole window/);
  });
});
