import { OP_SYMBOL } from '../problem.ts';
import type { Op, Problem } from '../problem.ts';
import type { DataFormat, ParseResult } from './format.ts';

/** Shared digit and parsing helpers for the formats in this folder. */

export const DIGITS = '0123456789';

/** Left-pads with zeros to `width`; the width is a minimum, so longer numbers are never cut (Lee'23, Qiu'24). */
export function padDigits(n: bigint, width: number): string {
  return n.toString().padStart(width, '0');
}

export function reverseText(text: string): string {
  return [...text].reverse().join('');
}

export function fail(error: string): ParseResult {
  return { ok: false, error };
}

/** A non-empty run of decimal digits; leading zeros are allowed (reversed answers produce them). */
export function parseDigits(text: string): ParseResult {
  if (text.length === 0) return fail('empty answer');
  if (!/^\d+$/.test(text)) return fail(`answer is not digits: ${JSON.stringify(text.slice(0, 40))}`);
  return { ok: true, answer: BigInt(text) };
}

/**
 * The first line of generated text. A missing `\n` is accepted because generation may stop at `<eos>`
 * right after the answer; anything after the first newline belongs to a later example and is ignored.
 */
export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

/** Text before the closing delimiter, or null when the delimiter was never generated. */
export function beforeDelimiter(text: string, delimiter: string): string | null {
  const end = text.indexOf(delimiter);
  return end === -1 ? null : text.slice(0, end);
}

/** Operator symbols for the ops a format supports, in the order listed. */
export function opSymbols(ops: readonly Op[]): string {
  return ops.map((op) => OP_SYMBOL[op]).join('');
}

/**
 * Vocabulary from groups: each string group is split into characters, each array group is taken as
 * whole symbols. Duplicates keep their first position, so the order is the order written.
 */
export function vocabularyOf(...groups: (string | readonly string[])[]): string[] {
  const symbols: string[] = [];
  for (const group of groups) {
    for (const symbol of typeof group === 'string' ? [...group] : group) {
      if (!symbols.includes(symbol)) symbols.push(symbol);
    }
  }
  return symbols;
}

/** Encoding an op the format cannot express, or a negative operand, is a programming error. */
export function checkProblem(format: Pick<DataFormat, 'name' | 'ops'>, problem: Problem): void {
  if (!format.ops.includes(problem.op)) {
    throw new Error(`format '${format.name}' supports ${format.ops.join(', ')}, not '${problem.op}'`);
  }
  if (problem.a < 0n || problem.b < 0n) {
    throw new Error(`format '${format.name}' needs non-negative operands, got ${problem.a} and ${problem.b}`);
  }
}

/** Digits written least significant first (reversed formats); leading zeros after undoing it are fine. */
export function parseReversedDigits(text: string): ParseResult {
  const checked = parseDigits(text);
  return checked.ok ? parseDigits(reverseText(text)) : checked;
}

/** One column of schoolbook addition, least significant first; an exhausted operand contributes 0. */
export interface AdditionColumn {
  digitA: number;
  digitB: number;
  carryIn: number;
  sum: number;
}

/** One column per digit of the longer operand (Lee'23 scratchpads); a final carry is left to the caller. */
export function additionColumns(a: bigint, b: bigint): AdditionColumn[] {
  const digitsA = a.toString();
  const digitsB = b.toString();
  const columns: AdditionColumn[] = [];
  let carry = 0;
  for (let place = 0; place < Math.max(digitsA.length, digitsB.length); place++) {
    const digitA = Number(digitsA[digitsA.length - 1 - place] ?? '0');
    const digitB = Number(digitsB[digitsB.length - 1 - place] ?? '0');
    const sum = digitA + digitB + carry;
    columns.push({ digitA, digitB, carryIn: carry, sum });
    carry = sum >= 10 ? 1 : 0;
  }
  return columns;
}
