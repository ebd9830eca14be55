/** Counting helpers every probe shares: exact-match tallies and digit positions counted from the units digit. */

export interface Tally {
  count: number;
  correct: number;
  /** correct / count, or null for an empty bucket (never a misleading 0). */
  accuracy: number | null;
}

export function tally(correct: number, count: number): Tally {
  return { count, correct, accuracy: count === 0 ? null : correct / count };
}

export function tallyOf(outcomes: readonly boolean[]): Tally {
  return tally(outcomes.filter(Boolean).length, outcomes.length);
}

/** Digit at `position` (0 = units) of a non-negative integer; 0 beyond its length. */
export function digitAt(value: bigint, position: number): number {
  const text = value.toString();
  return position < text.length ? text.charCodeAt(text.length - 1 - position) - 48 : 0;
}

/**
 * Positions compared between an expected and a produced answer: every digit either one has, so a spurious
 * leading digit counts as a wrong digit at its position.
 */
export function comparedPositions(expected: bigint, got: bigint): number {
  return Math.max(expected.toString().length, got.toString().length);
}

/** Lowest position (from the units digit) where the answers differ, or null when they are equal. */
export function firstWrongPosition(expected: bigint, got: bigint): number | null {
  for (let position = 0; position < comparedPositions(expected, got); position++) {
    if (digitAt(expected, position) !== digitAt(got, position)) return position;
  }
  return null;
}

/**
 * What kind of wrong answer `got` is: `short` has fewer digits than `expected` (the model stopped early),
 * `long` more (it did not stop in time), `digits` as many with some wrong; `unparsed` when nothing parsed.
 * Length failures and digit failures have different causes, so length-generalization work counts them apart.
 */
export type ErrorKind = 'short' | 'long' | 'digits' | 'unparsed';
export const ERROR_KINDS: readonly ErrorKind[] = ['short', 'long', 'digits', 'unparsed'];

export function errorKind(expected: bigint, got: bigint | null): ErrorKind {
  if (got === null) return 'unparsed';
  const [want, have] = [expected.toString().length, got.toString().length];
  return have < want ? 'short' : have > want ? 'long' : 'digits';
}

/**
 * Whether a carry enters each position of a + b (index 0 = units, which never receives one), up to and
 * including the final carry-out position.
 */
export function carriesInto(a: bigint, b: bigint): boolean[] {
  const columns = Math.max(a.toString().length, b.toString().length);
  const into = [false];
  let carry = 0;
  for (let position = 0; position < columns; position++) {
    carry = digitAt(a, position) + digitAt(b, position) + carry >= 10 ? 1 : 0;
    into.push(carry === 1);
  }
  return into;
}

/** `97.5`, `100`, `0`: one decimal only where the percentage is not whole; `-` for an empty bucket. */
export function percent(accuracy: number | null, width = 5): string {
  if (accuracy === null) return '-'.padStart(width);
  const value = 100 * accuracy;
  return (Number.isInteger(Math.round(value * 10) / 10) ? value.toFixed(0) : value.toFixed(1)).padStart(width);
}
