import { OP_SYMBOL, type Problem } from '../data/problem.ts';
import type { Decoder } from './decode.ts';
import { scoreOutput, type Prediction } from './prediction.ts';
import { writeQuery, type Query } from './query.ts';
import type { InferenceSetup } from './setup.ts';

/** Decodes written queries in one batch and scores each output; predictions come back in query order. */
export async function answerQueries(decode: Decoder, setup: InferenceSetup, queries: readonly Query[]): Promise<Prediction[]> {
  const positions = queries.some((q) => q.positions) ? queries.map((q) => q.positions ?? null) : undefined;
  const generated = await decode(
    queries.map((q) => q.ids),
    queries.map((q) => q.maxNew),
    positions,
  );
  return queries.map((q, i) => scoreOutput(setup, q.problem, q.prompt, setup.tokenizer.decode(generated[i])));
}

/**
 * Format, decode greedily, parse, score: problems in, predictions out (same order). Every problem must be one
 * the run can write and fit (evaluation and probes only ask for those); one that is not is an error.
 */
export async function predict(decode: Decoder, setup: InferenceSetup, problems: readonly Problem[]): Promise<Prediction[]> {
  const queries = problems.map((problem) => {
    const written = writeQuery(setup, problem);
    if (!written.ok) throw new Error(`cannot predict ${problem.a}${OP_SYMBOL[problem.op]}${problem.b}: ${written.error}`);
    return written.query;
  });
  return answerQueries(decode, setup, queries);
}
