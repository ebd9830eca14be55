import type { TokenRole } from '../contracts/tokenRoles.ts';
import type { Problem } from './problem.ts';

/**
 * Column quantities of long multiplication and addition, the quantities Bai et al. 2025 ("Why Can't Transformers
 * Learn Multiplication?", code github.com/ajyl/icot) probe for and train an auxiliary head on. With operand
 * digits least significant first, column k of a × b has the partial-product sum s_k = Σ_{i+j=k} a_i·b_j (of a + b:
 * s_k = a_k + b_k); the running sum is ĉ_k = s_k + r_{k−1}, the carry out r_k = ⌊ĉ_k / 10⌋ (r_{−1} = 0) and the
 * answer digit c_k = ĉ_k mod 10.
 */
export interface Column {
  /** Significance k (0 = units). */
  k: number;
  /** ĉ_k = s_k + r_{k−1}. */
  runningSum: number;
  /** r_{k−1}, the carry entering column k. */
  carryIn: number;
  /** c_k = ĉ_k mod 10. */
  digit: number;
}

const digitsLsbFirst = (n: bigint): number[] => [...n.toString()].reverse().map(Number);

/** Columns 0 .. `count`−1 (default: as many as the answer can have: len(a)+len(b) for ×, max+1 for +). */
export function columns(problem: Problem, count?: number): Column[] {
  const a = digitsLsbFirst(problem.a);
  const b = digitsLsbFirst(problem.b);
  const total = count ?? (problem.op === 'mul' ? a.length + b.length : Math.max(a.length, b.length) + 1);
  const result: Column[] = [];
  let carry = 0;
  for (let k = 0; k < total; k++) {
    let sum = 0;
    if (problem.op === 'mul') {
      for (let i = 0; i <= k && i < a.length; i++) if (k - i < b.length) sum += a[i] * b[k - i];
    } else {
      sum = (a[k] ?? 0) + (b[k] ?? 0);
    }
    const runningSum = sum + carry;
    result.push({ k, runningSum, carryIn: carry, digit: runningSum % 10 });
    carry = Math.floor(runningSum / 10);
  }
  return result;
}

/**
 * Whether a format's answer digits run least significant first (significance 0, 1, 2, … along the target):
 * the order in which a left-to-right model can compute running sums, and the one Bai's auxiliary loss needs.
 */
export function answerIsLsbFirst(roles: readonly TokenRole[]): boolean {
  const answer = roles.filter((role) => role.kind === 'answer').map((role) => role.significance);
  return answer.length > 1 && answer.every((k, i) => k === i);
}

/**
 * Per input position of a batch row, the running sum ĉ_k that the position predicting answer digit k should
 * hold, and a 1 in `mask` there. Under teacher forcing the input token at t predicts token t+1, so answer digit k
 * (the token at t+1 in `roles`, which start with `<bos>`) is predicted at position t: the head reads the stream
 * where the model must already know ĉ_k to write c_k next. [batch, seqLen] row-major, like the batch.
 */
export function runningSumTargets(
  problems: readonly Problem[],
  roles: readonly (readonly TokenRole[])[],
  seqLen: number,
): { values: Float32Array; mask: Float32Array } {
  const values = new Float32Array(problems.length * seqLen);
  const mask = new Float32Array(problems.length * seqLen);
  problems.forEach((problem, row) => {
    const rowRoles = roles[row];
    const answerDigits = rowRoles.filter((role) => role.kind === 'answer').length;
    const byK = columns(problem, Math.max(answerDigits, 1));
    for (let t = 0; t + 1 < rowRoles.length && t < seqLen; t++) {
      const next = rowRoles[t + 1];
      if (next.kind !== 'answer' || next.significance === null) continue;
      values[row * seqLen + t] = byK[next.significance].runningSum;
      mask[row * seqLen + t] = 1;
    }
  });
  return { values, mask };
}
