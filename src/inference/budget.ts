import { tokenizeExample } from '../data/batches.ts';
import type { Problem } from '../data/problem.ts';
import { getPositionalEncoding } from '../models/positional/index.ts';
import type { InferenceSetup } from './setup.ts';

/** The all-nines number with as many digits as `operand`. */
export const allNines = (operand: bigint) => 10n ** BigInt(operand.toString().length) - 1n;

/**
 * The one generation budget, for evaluation, probes and `predict` alike: the tokens of the target of the
 * all-nines problem with the same operand lengths (the longest answer those lengths allow, a carry in every
 * column), plus its `<eos>`, plus one token, so an answer one token too long is seen as wrong rather than cut
 * to look right. It depends only on the operand lengths, never on the true answer. Greedy decoding stops
 * earlier at `<eos>`. Under learned positions it is also capped by the table: the last generated token is
 * never fed back, so a sequence may end one token past `max_len`; 0 or less means the prompt does not fit.
 */
export function generationBudget(setup: InferenceSetup, problem: Problem, promptTokens: number): number {
  const { format, formatOptions, tokenizer, model } = setup;
  const nines: Problem = { op: problem.op, a: allNines(problem.a), b: allNines(problem.b) };
  const { ids, promptLength } = tokenizeExample(format.encode(nines, formatOptions), tokenizer);
  const budget = ids.length - promptLength + 1;
  return getPositionalEncoding(model.pos).extrapolates ? budget : Math.min(budget, model.maxLen - promptTokens + 1);
}
