/**
 * How far a bench's rounds scatter, so a median is read with its spread: a step that swings between two speeds
 * from round to round has a median that says little on its own.
 */

/** The middle value, or the mean of the two middle ones (an upper median of 2 rounds would be the slower). */
export function medianOf(values: readonly number[]): number {
  if (values.length === 0) throw new Error('the median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export interface RoundSpread {
  /** Every round's value, in the order the rounds ran. */
  rounds: number[];
  median: number;
  min: number;
  max: number;
  /** The largest |round - median| / median, in percent. */
  maxDeviationPercent: number;
}

export function roundSpread(rounds: readonly number[]): RoundSpread {
  const median = medianOf(rounds);
  const deviation = Math.max(...rounds.map((value) => Math.abs(value - median)));
  return {
    rounds: [...rounds],
    median,
    min: Math.min(...rounds),
    max: Math.max(...rounds),
    maxDeviationPercent: median > 0 ? (100 * deviation) / median : 0,
  };
}

/**
 * The reference's time over ours, round by round (each pair ran next to each other in time, so a load change
 * between rounds moves both), and its spread. Rounds one side lacks are left out.
 */
export function pairedRatios(ours: readonly number[], reference: readonly number[]): RoundSpread {
  const pairs = Math.min(ours.length, reference.length);
  if (pairs === 0) throw new Error('no rounds to pair');
  return roundSpread(Array.from({ length: pairs }, (_, round) => reference[round] / ours[round]));
}

/** `median (min-max, ±x%)` with the given digits and unit after the median, for the printed table. */
export function formatSpread(spread: RoundSpread, digits: number, unit = ''): string {
  const value = (x: number) => x.toFixed(digits);
  if (spread.rounds.length === 1) return `${value(spread.median)}${unit}`;
  return `${value(spread.median)}${unit} (${value(spread.min)}-${value(spread.max)}, ±${spread.maxDeviationPercent.toFixed(0)}%)`;
}

/** The spread as the bench's JSON writes it, rounded to `digits`. */
export function spreadJson(spread: RoundSpread, digits: number) {
  const round = (x: number) => Number(x.toFixed(digits));
  return {
    rounds: spread.rounds.map(round),
    median: round(spread.median),
    min: round(spread.min),
    max: round(spread.max),
    max_deviation_percent: Number(spread.maxDeviationPercent.toFixed(1)),
  };
}

/**
 * How many timed steps make a round of about `seconds`, from one step's time: at least `minSteps`. A round of a
 * few steps lasts a fraction of a second, and a shared machine's cores change speed over seconds (see
 * bench/steadiness.ts), so a short round measures the moment it ran in more than the engine.
 */
export function stepsForRound(stepMs: number, seconds: number, minSteps: number): number {
  if (!(seconds > 0)) return minSteps;
  return Math.max(minSteps, Math.ceil((seconds * 1000) / Math.max(stepMs, 0.001)));
}

/**
 * The median of each consecutive window of `windowMs` of samples taken back to back (`at`: when each started,
 * ms), and their spread; a trailing window shorter than `windowMs` is left out.
 */
export function windowSpread(samples: readonly { at: number; ms: number }[], windowMs: number): RoundSpread {
  const windows: number[][] = [];
  if (samples.length === 0) throw new Error('no samples');
  const start = samples[0].at;
  for (const sample of samples) {
    const index = Math.floor((sample.at - start) / windowMs);
    (windows[index] ??= []).push(sample.ms);
  }
  const last = samples[samples.length - 1];
  const complete = Math.floor((last.at + last.ms - start) / windowMs);
  const medians = windows.slice(0, complete).filter(Boolean).map(medianOf);
  if (medians.length === 0) throw new Error(`no whole window of ${windowMs} ms`);
  return roundSpread(medians);
}
