import { randomBigInt, type Random } from '../random.ts';
import { carryProfile } from './carries.ts';
import type { Op, Problem } from './problem.ts';
import { columns } from './runningSum.ts';

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
  sampling: 'uniform' | 'balanced' | 'qiu' | 'large-digits' | 'large-sums' | 'large-mixed';
  /** `independent`: each operand draws its own length; `equal`: both operands share one drawn length. */
  operandLengths: 'independent' | 'equal';
  /** `large-digits`, `large-mixed`: share of problems whose every digit is drawn from 5-9; default `LARGE_DIGITS_SHARE`. */
  largeDigitsShare?: number;
  /** `large-sums`, `large-mixed`: the share of problems redrawn until their largest running column sum reaches `from`. */
  largeSums?: LargeSums;
}

export interface LargeSums {
  share: number;
  from: number;
}

/** Defaults of `large-sums` sampling: a quarter of the problems, from a running sum of 150 (4x4's top tenth). */
export const LARGE_SUMS: LargeSums = { share: 0.25, from: 150 };

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

/** Share of Qiu'24 training problems whose second operand keeps a single nonzero digit. */
export const QIU_SINGLE_DIGIT_SHARE = 0.45;

/**
 * Qiu'24 multiplication data: uniform problems, but in 45 % of them every digit of the second operand except
 * one (chosen uniformly among its nonzero digits) is set to zero, e.g. 678 -> 070. Such a product is a single
 * shifted partial product a * d * 10^k, the building block the model must learn before it can add them up.
 */
function sampleQiu(random: Random, spec: SamplerSpec): Problem {
  const problem = sampleUniform(random, spec);
  if (random.next() >= QIU_SINGLE_DIGIT_SHARE) return problem;
  return { ...problem, b: keepOneNonzeroDigit(random, problem.b) };
}

/** Zeroes every decimal digit of `n` except one nonzero digit drawn uniformly (0 stays 0). */
export function keepOneNonzeroDigit(random: Random, n: bigint): bigint {
  const digits = n.toString();
  const nonzero = [...digits].flatMap((d, i) => (d === '0' ? [] : [i]));
  if (nonzero.length === 0) return n;
  const keep = nonzero[random.int(0, nonzero.length - 1)];
  return BigInt(digits[keep]) * 10n ** BigInt(digits.length - 1 - keep);
}

/** Default share of `large-digits` training problems whose every digit is drawn from 5-9. */
export const LARGE_DIGITS_SHARE = 0.25;

/**
 * Uniform problems, but in a share of them (a quarter by default) every digit of both operands is drawn from 5-9 (lengths as drawn).
 * Uniform data rarely has large column sums (a 4x4 product's middle column sums four partial products; its
 * running sum is 150 or more in one problem in ten), and that tail is where a trained 4x4 model's errors are.
 */
function sampleLargeDigits(random: Random, spec: SamplerSpec): Problem {
  const problem = sampleUniform(random, spec);
  if (random.next() >= (spec.largeDigitsShare ?? LARGE_DIGITS_SHARE)) return problem;
  return withLargeDigits(random, problem);
}

/** The problem with every digit of both operands redrawn from 5-9, lengths kept. */
function withLargeDigits(random: Random, problem: Problem): Problem {
  const large = (n: bigint) => BigInt(Array.from(n.toString(), () => random.int(5, 9)).join(''));
  return { ...problem, a: large(problem.a), b: large(problem.b) };
}

/** The largest running column sum ĉ_k of a multiplication (src/data/runningSum.ts). */
export const largestRunningSum = (problem: Problem): number => Math.max(...columns(problem).map((column) => column.runningSum));

/** Draws before `large-sums` gives up: 4x4 reaches 150 in one uniform problem in nine. */
const LARGE_SUMS_TRIES = 100_000;

/**
 * Uniform problems, but a share of them (a quarter by default) drawn again until their largest running column
 * sum ĉ_k reaches `from` (150 by default): uniform problems conditioned on the tail where a trained 4x4 model's
 * errors are, digits mixed as the test draws them, where `large-digits` makes every digit 5-9.
 */
function sampleLargeSums(random: Random, spec: SamplerSpec): Problem {
  const { share } = spec.largeSums ?? LARGE_SUMS;
  if (random.next() >= share) return sampleUniform(random, spec);
  return drawLargeSum(random, spec);
}

/** A uniform problem drawn again until its largest running column sum reaches `from`. */
function drawLargeSum(random: Random, spec: SamplerSpec): Problem {
  const { from } = spec.largeSums ?? LARGE_SUMS;
  for (let tries = 0; tries < LARGE_SUMS_TRIES; tries++) {
    const problem = sampleUniform(random, spec);
    if (largestRunningSum(problem) >= from) return problem;
  }
  throw new Error(
    `large-sums sampling: no problem of ${spec.trainDigits.join('-')} digits reached a running sum of ${from} in ${LARGE_SUMS_TRIES} draws`,
  );
}

/**
 * Both tails: a share of problems with every digit 5-9 (`large-digits`, whose middle column sums lie near 200) and
 * a share from the uniform tail (`large-sums`, mostly just above its threshold), the rest uniform. Each alone
 * trained one range and left the other: large-sums fixed 150-179 and lost 180 and above.
 */
function sampleLargeMixed(random: Random, spec: SamplerSpec): Problem {
  const digitsShare = spec.largeDigitsShare ?? LARGE_DIGITS_SHARE;
  const sumsShare = (spec.largeSums ?? LARGE_SUMS).share;
  const u = random.next();
  if (u < digitsShare) return withLargeDigits(random, sampleUniform(random, spec));
  if (u < digitsShare + sumsShare) return drawLargeSum(random, spec);
  return sampleUniform(random, spec);
}

export function sampleProblem(random: Random, spec: SamplerSpec): Problem {
  if (spec.sampling === 'large-mixed') return sampleLargeMixed(random, spec);
  if (spec.sampling === 'large-sums') return sampleLargeSums(random, spec);
  if (spec.sampling === 'large-digits') return sampleLargeDigits(random, spec);
  if (spec.sampling === 'balanced') return sampleBalanced(random, spec);
  if (spec.sampling === 'qiu') return sampleQiu(random, spec);
  return sampleUniform(random, spec);
}

/** All 100 one-digit addition pairs, which Lee'23's balanced training sets always contain. */
export function balancedOneDigitPairs(spec: SamplerSpec): Problem[] {
  if (spec.sampling !== 'balanced' || spec.trainDigits[0] > 1) return [];
  const pairs: Problem[] = [];
  for (let a = 0n; a < 10n; a++) for (let b = 0n; b < 10n; b++) pairs.push({ op: spec.op, a, b });
  return pairs;
}
