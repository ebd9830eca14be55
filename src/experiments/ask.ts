import { tokenizeExample } from '../data/batches.ts';
import { answerOf, longestProblem, OP_SYMBOL, parseProblem, type Problem } from '../data/problem.ts';
import { BOS_ID } from '../data/tokenizer.ts';
import type { Gpt } from '../models/gpt.ts';
import { getPositionalEncoding } from '../models/positional/index.ts';
import { greedyDecode } from './decode.ts';
import type { Experiment } from './setup.ts';

/** Prompts (token ids from `<bos>`) and per-prompt token budgets in, generated ids out: greedyDecode's shape. */
export type Decoder = (prompts: number[][], maxNew: number[]) => Promise<number[][]>;

export function modelDecoder(model: Gpt): Decoder {
  return (prompts, maxNew) => greedyDecode(model, prompts, maxNew);
}

/** One answered question. BigInts are decimal strings so the object is JSON as is. */
export interface Answered {
  line: number;
  input: string;
  problem: string;
  prompt: string;
  /** Raw generated text after the prompt, up to `<eos>`. */
  output: string;
  /** Parsed answer, or null when the output does not parse (`parseError` says why). */
  answer: string | null;
  parseError: string | null;
  expected: string;
  ok: boolean;
}

/** A line that is not a question this run can answer; it never stops the other lines. */
export interface Rejected {
  line: number;
  input: string;
  error: string;
}

export type AskResult = Answered | Rejected;

export function isRejected(result: AskResult): result is Rejected {
  return 'error' in result;
}

interface Prepared {
  line: number;
  input: string;
  problem: Problem;
  prompt: string;
  ids: number[];
  maxNew: number;
}

/**
 * Tokens the answer may take, known before decoding: the target of the problem with the same operand lengths
 * and all nines (the most digits an answer of those lengths can have, a carry in every column), plus one
 * token, as evaluation allows one past the truth. Greedy decoding stops earlier at `<eos>`.
 */
function answerBudget(experiment: Experiment, problem: Problem): number {
  const { format, formatOptions, tokenizer } = experiment;
  const nines: Problem = {
    op: problem.op,
    a: longestProblem(problem.op, problem.a.toString().length).a,
    b: longestProblem(problem.op, problem.b.toString().length).b,
  };
  const { ids, promptLength } = tokenizeExample(format.encode(nines, formatOptions), tokenizer);
  return ids.length - promptLength + 1;
}

function prepare(experiment: Experiment, line: number, input: string): Prepared | Rejected {
  const { config, format, formatOptions, tokenizer } = experiment;
  const reject = (error: string): Rejected => ({ line, input, error });
  const problem = parseProblem(input);
  if (!problem) return reject('expected a problem like 128+367 or 12*34');
  if (problem.op !== config.task.op) return reject(`this run was trained on ${config.task.op}, not ${problem.op}`);
  let prompt: string;
  let ids: number[];
  let maxNew: number;
  try {
    prompt = format.encode(problem, formatOptions).prompt;
    ids = [BOS_ID, ...tokenizer.encode(prompt)];
    maxNew = answerBudget(experiment, problem);
  } catch (error) {
    return reject(`format "${format.name}" cannot write this problem for this run: ${(error as Error).message}`);
  }
  if (!getPositionalEncoding(experiment.model.pos).extrapolates) {
    // The last generated token is never fed back, so a sequence may end one token past max_len.
    const room = experiment.model.maxLen - ids.length + 1;
    if (room < 1) {
      return reject(`the prompt takes ${ids.length} tokens; the learned "${experiment.model.pos}" positions end at model.max_len ${experiment.model.maxLen}`);
    }
    maxNew = Math.min(maxNew, room);
  }
  return { line, input, problem, prompt, ids, maxNew };
}

/**
 * Answers questions like `128+367` with a trained model: each is written in the run's format, decoded
 * greedily in one batch (the generation budget depends only on operand lengths, never on the true answer),
 * and parsed back. Lines that are not problems, use another operation, or do not fit the model are returned as
 * Rejected, with their line numbers; blank lines are skipped. `firstLine` numbers the first input.
 */
export async function ask(decode: Decoder, experiment: Experiment, inputs: readonly string[], firstLine = 1): Promise<AskResult[]> {
  const results: (AskResult | Prepared)[] = [];
  inputs.forEach((input, i) => {
    if (input.trim() !== '') results.push(prepare(experiment, firstLine + i, input.trim()));
  });
  const pending = results.filter((r): r is Prepared => 'ids' in r);
  const generated = await decode(
    pending.map((p) => p.ids),
    pending.map((p) => p.maxNew),
  );
  const { format, formatOptions, tokenizer } = experiment;
  const answered = new Map<Prepared, Answered>();
  pending.forEach((p, i) => {
    const output = tokenizer.decode(generated[i]);
    const parsed = format.parse(output, formatOptions);
    const expected = answerOf(p.problem);
    answered.set(p, {
      line: p.line,
      input: p.input,
      problem: `${p.problem.a}${OP_SYMBOL[p.problem.op]}${p.problem.b}`,
      prompt: p.prompt,
      output,
      answer: parsed.ok ? parsed.answer.toString() : null,
      parseError: parsed.ok ? null : parsed.error,
      expected: expected.toString(),
      ok: parsed.ok && parsed.answer === expected,
    });
  });
  return results.map((r) => ('ids' in r ? answered.get(r)! : r));
}
