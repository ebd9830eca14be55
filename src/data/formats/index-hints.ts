import { answerOf, digitCount } from '../problem.ts';
import type { DataFormat, FormatOptions } from './format.ts';
import { digitsMsbFirst, hintRole, symbols } from './roles.ts';
import { DIGITS, checkProblem, fail, firstLine, padDigits, vocabularyOf } from './digits.ts';

/** `h0` labels the most significant padded position, as index -100 - i does in apple/ml-np-rasp. */
function hint(position: number): string {
  return `h${position}`;
}

/** `h0 0 h1 0 h2 8 h3 8`: each digit preceded by the hint of its position. */
function hinted(digits: string): string {
  return [...digits].map((digit, position) => `${hint(position)} ${digit}`).join(' ');
}

/**
 * Zhou'23 index hints, answer reversed. Operands pad to (longest + 1) digits so the sum always fits; the
 * answer walks the hints down from the units position, each hint followed by that position's digit:
 * 88+842 → prompt `h0 0 h1 0 h2 8 h3 8 + h0 0 h1 8 h2 4 h3 2 =`, target ` h3 0 h2 3 h1 9 h0 0\n`.
 * Tokens are separated by one space, as docs/formats.md writes them: without it `h1` followed by `0` would read as
 * the symbol `h10` under longest-first tokenizing. The prompt ends at `=` (Lee's convention), so the space
 * after `=` starts the target. Hints are h0..h{maxDigits}: the widest padded operand has maxDigits+1 digits.
 */
export const indexHints: DataFormat = {
  name: 'index-hints',
  description: "Zhou'23 index hints, reversed answer: h0 0 h1 8 h2 8 + h0 0 h1 4 h2 2 = h2 0 h1 3 h0 1",
  ops: ['add'],
  encode(problem, options) {
    checkProblem(indexHints, problem);
    const longest = Math.max(digitCount(problem.a), digitCount(problem.b));
    if (longest > options.maxDigits) {
      throw new Error(`index-hints: operand of ${longest} digits exceeds maxDigits ${options.maxDigits}`);
    }
    const width = longest + 1;
    const answerDigits = padDigits(answerOf(problem), width);
    const answer = [...answerDigits]
      .map((digit, position) => `${hint(position)} ${digit}`)
      .reverse()
      .join(' ');
    return {
      prompt: `${hinted(padDigits(problem.a, width))} + ${hinted(padDigits(problem.b, width))} =`,
      target: ` ${answer}\n`,
    };
  },
  parse(generated) {
    const line = firstLine(generated);
    if (line.length === 0) return fail('empty answer');
    if (!line.startsWith(' ')) return fail("answer must start with ' ' after '='");
    const tokens = line.slice(1).split(' ');
    if (tokens.length % 2 !== 0) return fail('answer is not hint/digit pairs');
    const digitsLeastFirst: string[] = [];
    const pairCount = tokens.length / 2;
    for (let pair = 0; pair < pairCount; pair++) {
      const expectedHint = hint(pairCount - 1 - pair);
      const [hintToken, digit] = [tokens[2 * pair], tokens[2 * pair + 1]];
      if (hintToken !== expectedHint) {
        return fail(`expected hint ${expectedHint}, got ${JSON.stringify(hintToken.slice(0, 20))}`);
      }
      if (!/^\d$/.test(digit)) return fail(`expected a digit after ${hintToken}, got ${JSON.stringify(digit)}`);
      digitsLeastFirst.push(digit);
    }
    return { ok: true, answer: BigInt(digitsLeastFirst.reverse().join('')) };
  },
  vocabulary(options: FormatOptions) {
    const hints = Array.from({ length: options.maxDigits + 1 }, (_, position) => hint(position));
    return vocabularyOf(DIGITS, ' +=\n', hints);
  },
  roles(problem) {
    const width = Math.max(digitCount(problem.a), digitCount(problem.b)) + 1;
    // `h{i} d` per padded position i (most significant first), one space between tokens.
    const hintedRoles = (kind: 'a' | 'b') =>
      digitsMsbFirst(kind, '0'.repeat(width)).flatMap((digit, i) => [
        ...(i === 0 ? [] : symbols('separator', ' ')),
        hintRole(digit.significance!),
        ...symbols('separator', ' '),
        digit,
      ]);
    const answer = Array.from({ length: width }, (_, k) => [
      ...symbols('separator', ' '),
      hintRole(k),
      ...symbols('separator', ' '),
      { kind: 'answer' as const, significance: k },
    ]);
    return {
      prompt: [
        ...hintedRoles('a'),
        ...symbols('separator', ' '),
        ...symbols('operator', '+'),
        ...symbols('separator', ' '),
        ...hintedRoles('b'),
        ...symbols('separator', ' '),
        ...symbols('operator', '='),
      ],
      target: [...answer.flat(), ...symbols('separator', '\n')],
    };
  },
};
