import { tokenizeExample } from '../data/batches.ts';
import { answerOf, OP_SYMBOL, type Problem } from '../data/problem.ts';
import type { Experiment } from '../config/experiment.ts';

/**
 * Where the digits of significance k sit in a training sequence, read off the format's own output, so that
 * probes work for every format without each format describing itself:
 * - operands: the digit tokens before the operator symbol are a (most significant first, padding included),
 *   the digit tokens after it are b;
 * - answer: the last run of digit tokens in the target (hint symbols and spaces may sit between them), which
 *   ends every format's target: `594$`, `0495`, the scratchpads' final line, ` h3 0 h2 3 h1 9 h0 0`.
 */

export type Role = `a${number}` | `b${number}` | `answer${number}` | 'bos' | null;

export interface SequenceLayout {
  /** `<bos>` prompt target, without the final `<eos>`: what the model reads while writing the answer. */
  ids: number[];
  tokens: string[];
  /** Per token: operand digit `a3`, `b0`, answer digit `answer2` (significance), `bos`, or null. */
  roles: Role[];
  /** Index of the first target token. */
  promptLength: number;
  /** Token index of answer digit k (by significance), for each k the written answer has. */
  answerTokens: number[];
}

const isDigit = (token: string) => token.length === 1 && token >= '0' && token <= '9';
const isHint = (token: string) => /^h\d+$/.test(token);

function answerRun(tokens: string[], promptLength: number): number[] {
  let end = tokens.length - 1;
  while (end >= promptLength && !isDigit(tokens[end])) end--;
  const run: number[] = [];
  for (let i = end; i >= promptLength; i--) {
    if (isDigit(tokens[i])) run.unshift(i);
    else if (tokens[i] !== ' ' && !isHint(tokens[i])) break;
  }
  return run;
}

/** Reads the answer digits off the target as `msb-first` or `lsb-first`; null when neither or both match. */
function orderOf(digits: string, answer: bigint): 'msb-first' | 'lsb-first' | null {
  const written = answer.toString().padStart(digits.length, '0');
  const forward = digits === written;
  const backward = [...digits].reverse().join('') === written;
  return forward === backward ? null : forward ? 'msb-first' : 'lsb-first';
}

/** The order this run's format writes answers in, from a problem whose answer is no palindrome. */
export function answerOrder(experiment: Experiment): 'msb-first' | 'lsb-first' {
  const reference: Problem = { op: experiment.task.op, a: 12n, b: 1n };
  const layout = rawLayout(experiment, reference);
  const digits = layout.run.map((i) => layout.tokens[i]).join('');
  const order = orderOf(digits, answerOf(reference));
  if (!order)
    throw new Error(`format "${experiment.format.name}": cannot find the answer digits of 12${OP_SYMBOL[reference.op]}1 in its target`);
  return order;
}

function rawLayout(experiment: Experiment, problem: Problem) {
  const { format, formatOptions, tokenizer } = experiment;
  const { ids, promptLength } = tokenizeExample(format.encode(problem, formatOptions), tokenizer);
  const sequence = ids.slice(0, -1);
  const tokens = sequence.map((id) => tokenizer.tokens[id]);
  return { ids: sequence, tokens, promptLength, run: answerRun(tokens, promptLength) };
}

export function sequenceLayout(experiment: Experiment, problem: Problem): SequenceLayout {
  const { ids, tokens, promptLength, run } = rawLayout(experiment, problem);
  const roles: Role[] = tokens.map((_, i) => (i === 0 ? 'bos' : null));
  const operator = tokens.findIndex((token, i) => i < promptLength && token === OP_SYMBOL[problem.op]);
  const operandDigits = (from: number, to: number) => tokens.map((_, i) => i).filter((i) => i >= from && i < to && isDigit(tokens[i]));
  for (const [name, indices] of [
    ['a', operandDigits(1, operator)],
    ['b', operandDigits(operator + 1, promptLength)],
  ] as const) {
    indices.forEach((index, position) => (roles[index] = `${name}${indices.length - 1 - position}`));
  }
  const digits = run.map((i) => tokens[i]).join('');
  const order = orderOf(digits, answerOf(problem)) ?? answerOrder(experiment);
  const answerTokens = order === 'lsb-first' ? [...run] : [...run].reverse();
  answerTokens.forEach((index, significance) => (roles[index] = `answer${significance}`));
  return { ids, tokens, roles, promptLength, answerTokens };
}
