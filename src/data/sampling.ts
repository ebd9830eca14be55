import { randomBigInt, type Random } from '../random.ts';
import { carryProfile } from './carries.ts';
import type { Op, Problem } from './problem.ts';

/** Uniform operand with exactly `digits` digits (1 digit includes 0, as in Lee'23's "all 100 1-digit pairs"). */
export function sampleOperand(random: Random, digits: number): bigint {
  if (digits === 1) return BigInt(random.int(0, 9));
  return randomBigInt(random, 10n ** BigInt(digits - 1), 10n ** BigInt(digits) - 1n);
}

/** Number of distinct problems whose operands have exactly `digits` digits each. */
export function problemSpaceSize(digits: number): bigint {
  const operands = digits === 1 ? 10n : 9n * 10n ** BigInt(digits - 1);
  return operands * operands;
}

export interface SamplerSpec {
  op: Op;
  trainDigits: [number, number];
  sampling: 'uniform' | 'balanced';
  /** `independent`: each operand draws its own length; `equal`: both operands share one drawn length. */
  operandLengths: 'independent' | 'equal';
}

/** Uniform: operand lengths drawn uniformly from the range (per operand, or once for both), then digits. */
function sampleUniform(random: Random, spec: SamplerSpec): Problem {
  const [lo, hi] = spec.trainDigits;
  const lengthOfA = random.int(lo, hi);
  const lengthOfB = spec.operandLengths === 'equal' ? lengthOfA : random.int(lo, hi);
  return { op: spec.op, a: sampleOperand(random, lengthOfA), b: sampleOperand(random, lengthOfB) };
}

/**
 * Lee'23 "balanced" addition data, generalised from their 3-digit recipe: 1-digit pairs are enumerated
 * separately (see `balancedOneDigitPairs`); each intermediate length n gets 900/1e4 of the samples, the longest
 * length the rest. Within a length, the number of carries is drawn uniformly from 0..n and problems are drawn
 * until one has exactly that many carries, so long carry chains are not rare.
 */
function sampleBalanced(random: Random, spec: SamplerSpec): Problem {
  const [lo, hi] = spec.trainDigits;
  const firstMulti = Math.max(lo, 2);
  let digits = hi;
  for (let n = firstMulti; n < hi; n++) {
    if (random.next() < 0.09) {
      digits = n;
      break;
    }
  }
  const carries = random.int(0, digits);
  for (;;) {
    const problem: Problem = { op: 'add', a: sampleOperand(random, digits), b: sampleOperand(random, digits) };
    if (carryProfile(problem.a, problem.b).count === carries) return problem;
  }
}

export function sampleProblem(random: Random, spec: SamplerSpec): Problem {
  return spec.sampling === 'balanced' ? sampleBalanced(random, spec) : sampleUniform(random, spec);
}

/** All 100 one-digit addition pairs, which Lee'23's balanced training sets always contain. */
export function balancedOneDigitPairs(spec: SamplerSpec): Problem[] {
  if (spec.sampling !== 'balanced' || spec.trainDigits[0] > 1) return [];
  const pairs: Problem[] = [];
  for (let a = 0n; a < 10n; a++) for (let b = 0n; b < 10n; b++) pairs.push({ op: spec.op, a, b });
  return pairs;
}
