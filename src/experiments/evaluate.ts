import type { Problem } from '../data/problem.ts';
import { modelDecoder } from '../inference/decode.ts';
import { predict } from '../inference/predict.ts';
import type { Gpt } from '../models/gpt.ts';
import type { Experiment } from '../config/experiment.ts';

/** Exact-match accuracy per test length, on the first `limit` problems of each held-out set. */
export async function accuracyByLength(
  model: Gpt,
  experiment: Experiment,
  testSets: Map<number, Problem[]>,
  limit = Infinity,
): Promise<Record<string, number>> {
  const lengths = [...testSets.keys()];
  const problems = lengths.flatMap((n) => testSets.get(n)!.slice(0, limit));
  const predictions = await predict(modelDecoder(model), experiment, problems);
  const accuracy: Record<string, number> = {};
  let offset = 0;
  for (const n of lengths) {
    const count = Math.min(limit, testSets.get(n)!.length);
    const slice = predictions.slice(offset, offset + count);
    accuracy[n] = slice.filter((p) => p.correct).length / Math.max(1, count);
    offset += count;
  }
  return accuracy;
}

/** Mean accuracy over the lengths inside and beyond the training range. */
export function summarizeAccuracy(accuracy: Record<string, number>, trainDigits: [number, number]) {
  const inRange: number[] = [];
  const beyond: number[] = [];
  for (const [n, acc] of Object.entries(accuracy)) {
    (Number(n) >= trainDigits[0] && Number(n) <= trainDigits[1] ? inRange : beyond).push(acc);
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return { inRange: mean(inRange), beyond: mean(beyond) };
}
