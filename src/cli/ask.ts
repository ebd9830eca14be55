import { OP_SYMBOL, parseProblem } from '../data/problem.ts';
import type { Decoder } from '../inference/decode.ts';
import { answerQueries } from '../inference/predict.ts';
import type { Prediction } from '../inference/prediction.ts';
import { writeQuery, type Query } from '../inference/query.ts';
import type { Experiment } from '../config/experiment.ts';

/** One answered question: a Prediction as `predict --json` prints it (bigints as decimal strings). */
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

interface Asked {
  line: number;
  input: string;
  query: Query;
}

/** Why a text is not a problem: a minus sign gets its own reason, as the lab's problems have no negative operands. */
export function notAProblem(text: string): string {
  if (/^\s*-\s*\d|[+*x×]\s*-\s*\d/.test(text)) return 'negative operands are not supported; expected a problem like 128+367 or 12*34';
  return 'expected a problem like 128+367 or 12*34';
}

/** Reads one input line as a problem of this run's operation, written for its model, or says why not. */
function read(experiment: Experiment, line: number, input: string): Asked | Rejected {
  const reject = (error: string): Rejected => ({ line, input, error });
  const problem = parseProblem(input);
  if (!problem) return reject(notAProblem(input));
  if (problem.op !== experiment.config.task.op) return reject(`this run was trained on ${experiment.config.task.op}, not ${problem.op}`);
  const written = writeQuery(experiment, problem);
  return written.ok ? { line, input, query: written.query } : reject(written.error);
}

function answered(asked: Asked, prediction: Prediction): Answered {
  const { problem } = prediction;
  return {
    line: asked.line,
    input: asked.input,
    problem: `${problem.a}${OP_SYMBOL[problem.op]}${problem.b}`,
    prompt: prediction.prompt,
    output: prediction.output,
    answer: prediction.answer === null ? null : prediction.answer.toString(),
    parseError: prediction.parseError,
    expected: prediction.expected.toString(),
    ok: prediction.correct,
  };
}

/**
 * Answers questions like `128+367` with a trained model. Reading the lines is this command's job; writing,
 * decoding (one batch), parsing and scoring are inference's, the same as evaluation's. Lines that are not
 * problems, use another operation, or do not fit the model are returned as Rejected, with their line numbers;
 * blank lines are skipped. `firstLine` numbers the first input.
 */
export async function ask(decode: Decoder, experiment: Experiment, inputs: readonly string[], firstLine = 1): Promise<AskResult[]> {
  const results: (Asked | Rejected)[] = [];
  inputs.forEach((input, i) => {
    if (input.trim() !== '') results.push(read(experiment, firstLine + i, input.trim()));
  });
  const pending = results.filter((r): r is Asked => 'query' in r);
  const predictions = await answerQueries(
    decode,
    experiment,
    pending.map((asked) => asked.query),
  );
  const byAsked = new Map(pending.map((asked, i) => [asked, answered(asked, predictions[i])]));
  return results.map((r) => ('query' in r ? byAsked.get(r)! : r));
}
