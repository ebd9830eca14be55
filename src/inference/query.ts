import { decodeBudget, formatBytes, longestDecodable } from '../config/memoryEstimate.ts';
import { digitCount, type Problem } from '../data/problem.ts';
import { BOS_ID } from '../data/tokenizer.ts';
import { generationBudget } from './budget.ts';
import type { InferenceSetup } from './setup.ts';

/** A problem ready to decode: its prompt as the run writes it, the tokens fed (from `<bos>`), its budget. */
export interface Query {
  problem: Problem;
  prompt: string;
  ids: number[];
  maxNew: number;
}

type QueryResult = { ok: true; query: Query } | { ok: false; error: string };

/**
 * Writes a problem exactly as training shows its prompt (`<bos>` + prompt). Fails, with a reason, when the
 * format cannot write it for this run (index hints beyond the run's longest operand) or the prompt leaves no
 * room in a learned position table.
 */
export function writeQuery(setup: InferenceSetup, problem: Problem): QueryResult {
  const { format, formatOptions, tokenizer, model } = setup;
  // Encodings that extrapolate have no table to end them, so memory does: the prompt's attention scores grow with
  // the square of its length. Every operand digit is at least one token, so a problem too long by that count is
  // refused before it is even written out.
  const budget = decodeBudget();
  const longest = longestDecodable(model, budget);
  const tooLong = (tokens: number): QueryResult => ({
    ok: false,
    error:
      `the problem needs at least ${tokens.toLocaleString('en-US')} tokens; decoding more than ${longest.toLocaleString('en-US')} ` +
      `would take over ${formatBytes(budget)} of memory (operands of up to about ${Math.floor(longest / 3).toLocaleString('en-US')} digits fit)`,
  });
  const digits = digitCount(problem.a) + digitCount(problem.b);
  if (digits > longest) return tooLong(digits);
  let prompt: string;
  let ids: number[];
  let maxNew: number;
  try {
    prompt = format.encode(problem, formatOptions).prompt;
    ids = [BOS_ID, ...tokenizer.encode(prompt)];
    maxNew = generationBudget(setup, problem, ids.length);
  } catch (error) {
    return { ok: false, error: `format "${format.name}" cannot write this problem for this run: ${(error as Error).message}` };
  }
  if (ids.length + maxNew > longest) return tooLong(ids.length + maxNew);
  if (maxNew < 1) {
    return {
      ok: false,
      error: `the prompt takes ${ids.length} tokens; the learned "${model.pos}" positions end at model.max_len ${model.maxLen}`,
    };
  }
  return { ok: true, query: { problem, prompt, ids, maxNew } };
}
