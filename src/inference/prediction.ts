import { answerOf, type Problem } from '../data/problem.ts';
import type { InferenceSetup } from './setup.ts';

/** One decoded problem, parsed and scored: the one result evaluation, probes and `predict` all read. */
export interface Prediction {
  problem: Problem;
  prompt: string;
  /** Generated text after the prompt, up to `<eos>`. */
  output: string;
  /** Parsed answer, or null when the output does not parse (`parseError` says why). */
  answer: bigint | null;
  parseError: string | null;
  /** The exact answer. */
  expected: bigint;
  correct: boolean;
}

/** Parses generated text with the run's format and compares it with the exact answer. */
export function scoreOutput(setup: InferenceSetup, problem: Problem, prompt: string, output: string): Prediction {
  const parsed = setup.format.parse(output, setup.formatOptions);
  const expected = answerOf(problem);
  const answer = parsed.ok ? parsed.answer : null;
  return { problem, prompt, output, answer, parseError: parsed.ok ? null : parsed.error, expected, correct: answer === expected };
}
