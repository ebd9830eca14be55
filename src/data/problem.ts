/** One arithmetic problem. Operands are BigInt: ground truth must stay exact beyond 15 digits. */
export type Op = 'add' | 'mul';

export interface Problem {
  op: Op;
  a: bigint;
  b: bigint;
}

export const OP_SYMBOL: Record<Op, string> = { add: '+', mul: '*' };

export function answerOf(problem: Problem): bigint {
  return problem.op === 'add' ? problem.a + problem.b : problem.a * problem.b;
}

/** The problem with the longest rendering at a length: all nines (longest answer, a carry in every column). */
export function longestProblem(op: Op, digits: number): Problem {
  const nines = 10n ** BigInt(digits) - 1n;
  return { op, a: nines, b: nines };
}

/** Decimal digits of a non-negative integer (0 has one digit). */
export function digitCount(n: bigint): number {
  return n.toString().length;
}

/** Canonical key, used to prove train/test disjointness. */
export function problemKey(problem: Problem): string {
  return `${problem.a}${OP_SYMBOL[problem.op]}${problem.b}`;
}

/** Parses `128+367` or `12*34` (whitespace around tokens allowed). Returns null when the text is not a problem. */
export function parseProblem(text: string): Problem | null {
  const match = /^\s*(\d+)\s*([+*x×])\s*(\d+)\s*$/.exec(text);
  if (!match) return null;
  const op: Op = match[2] === '+' ? 'add' : 'mul';
  return { op, a: BigInt(match[1]), b: BigInt(match[3]) };
}
