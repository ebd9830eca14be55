import { tokenizeExample } from '../data/batches.ts';
import { answerOf, type Problem } from '../data/problem.ts';
import type { Gpt } from '../models/gpt.ts';
import { greedyDecode } from './decode.ts';
import type { Experiment } from './setup.ts';

export interface Prediction {
  problem: Problem;
  prompt: string;
  /** Generated text after the prompt, up to `<eos>`. */
  output: string;
  /** Parsed answer, or null when the output does not parse. */
  answer: bigint | null;
  correct: boolean;
}

/**
 * Greedy-decodes each problem's prompt exactly as training shows it (`<bos>` + prompt) and checks the parsed
 * answer. Generation stops one token past the true target's length: anything longer is wrong anyway.
 */
export async function predict(model: Gpt, experiment: Experiment, problems: Problem[]): Promise<Prediction[]> {
  const { format, formatOptions, tokenizer } = experiment;
  const examples = problems.map((p) => format.encode(p, formatOptions));
  const prompts = examples.map((e) => tokenizeExample(e, tokenizer));
  const promptIds = prompts.map((t) => t.ids.slice(0, t.promptLength));
  const maxNew = prompts.map((t) => t.ids.length - t.promptLength + 1);
  const generated = await greedyDecode(model, promptIds, maxNew);
  return problems.map((problem, i) => {
    const output = tokenizer.decode(generated[i]);
    const parsed = format.parse(output, formatOptions);
    const answer = parsed.ok ? parsed.answer : null;
    return { problem, prompt: examples[i].prompt, output, answer, correct: answer !== null && answer === answerOf(problem) };
  });
}

/** Exact-match accuracy per test length, on the first `limit` problems of each held-out set. */
export async function accuracyByLength(
  model: Gpt,
  experiment: Experiment,
  testSets: Map<number, Problem[]>,
  limit = Infinity,
): Promise<Record<string, number>> {
  const lengths = [...testSets.keys()];
  const problems = lengths.flatMap((n) => testSets.get(n)!.slice(0, limit));
  const predictions = await predict(model, experiment, problems);
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
