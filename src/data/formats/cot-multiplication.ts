import { answerOf, type Problem } from '../problem.ts';
import type { TokenRole } from '../../contracts/tokenRoles.ts';
import type { DataFormat } from './format.ts';
import { DIGITS, checkProblem, fail, firstLine, padDigits, parseReversedDigits, reverseText, vocabularyOf } from './digits.ts';
import { digitsLsbFirst, symbols } from './roles.ts';

/**
 * Multiplication with the partial products written out before the answer, in the layout of Deng et al. 2024
 * ("From Explicit CoT to Implicit CoT: Learning to Internalize CoT Step by Step", code
 * github.com/da03/Internalize_CoT_Step_by_Step), whose data Bai et al. 2025 also train on: digits space-separated
 * and least significant first, the prompt ending `||`, the chain of thought, ` #### `, the product.
 * 12 × 34 → `2 1 * 4 3||8 4 0 + 0 6 3 0 #### 8 0 4 0`:
 * the partial product a·b_j shifted by j columns (written with j leading zeros and len(a)+1 digits of its own),
 * and after each but the first and the last the running total in parentheses. The layout matches their data
 * files (data/*_by_*_mult/*.txt) character for character, up to the end of line that ends our target. The chain
 * of thought is everything before ` #### ` (src/data/internalize.ts removes it from the left, stage by stage).
 */

/** Digits least significant first with a space between them. */
const spacedLsbFirst = (digits: string): string => [...reverseText(digits)].join(' ');

/** Roles of `spacedLsbFirst(digits)`: digits of `kind` (significance 0, 1, ...) with separators between. */
function spacedRoles(kind: 'a' | 'b' | 'answer' | 'text', digits: string): TokenRole[] {
  const each: TokenRole[] = kind === 'text' ? symbols('text', digits) : digitsLsbFirst(kind, reverseText(digits));
  return each.flatMap((role, i) => (i === 0 ? [role] : [{ kind: 'separator', significance: null }, role]));
}

/** The chain of thought as pieces of text with their roles, in the order written. */
function chainOfThought(a: bigint, b: bigint): { text: string; roles: TokenRole[] }[] {
  const multiplier = b.toString();
  const width = a.toString().length + 1;
  const pieces: { text: string; roles: TokenRole[] }[] = [];
  let total = 0n;
  for (let j = 0; j < multiplier.length; j++) {
    const partial = a * BigInt(multiplier[multiplier.length - 1 - j]) * 10n ** BigInt(j);
    total += partial;
    const digits = padDigits(partial, width + j);
    if (j > 0) pieces.push({ text: ' + ', roles: symbols('text', ' + ') });
    pieces.push({ text: spacedLsbFirst(digits), roles: spacedRoles('text', digits) });
    // Deng's data files write no total after the last partial product: the answer after ` #### ` is that total.
    if (j > 0 && j < multiplier.length - 1) {
      const sum = padDigits(total, width + j);
      pieces.push({ text: ' ( ', roles: symbols('text', ' ( ') });
      pieces.push({ text: spacedLsbFirst(sum), roles: spacedRoles('text', sum) });
      pieces.push({ text: ' )', roles: symbols('text', ' )') });
    }
  }
  return pieces;
}

/** The product with len(a) + len(b) digits, as Deng's files write it (a leading zero where it is shorter). */
const paddedProduct = (problem: Problem): string => padDigits(answerOf(problem), `${problem.a}`.length + `${problem.b}`.length);

/** What separates the chain of thought from the answer. */
export const COT_ANSWER_MARKER = ' #### ';

export const cotMultiplication: DataFormat = {
  name: 'cot-multiplication',
  description: "Deng'24 chain of thought, digits reversed: 2 1 * 4 3||8 4 0 + 0 6 3 0 #### 8 0 4 0",
  ops: ['mul'],
  encode(problem) {
    checkProblem(cotMultiplication, problem);
    const cot = chainOfThought(problem.a, problem.b)
      .map((piece) => piece.text)
      .join('');
    return {
      prompt: `${spacedLsbFirst(`${problem.a}`)} * ${spacedLsbFirst(`${problem.b}`)}||`,
      target: `${cot}${COT_ANSWER_MARKER}${spacedLsbFirst(paddedProduct(problem))}\n`,
    };
  },
  parse(generated) {
    const line = firstLine(generated);
    const at = line.indexOf(COT_ANSWER_MARKER.trimEnd());
    if (at === -1) return fail(`no '${COT_ANSWER_MARKER.trim()}' before the answer`);
    const answer = line.slice(at + COT_ANSWER_MARKER.trimEnd().length);
    if (!/^( \d)+$/.test(answer)) return fail(`answer is not space-separated digits: ${JSON.stringify(answer.slice(0, 40))}`);
    return parseReversedDigits(answer.replaceAll(' ', ''));
  },
  vocabulary() {
    return vocabularyOf(DIGITS, ' *|+()#\n');
  },
  roles(problem) {
    return {
      prompt: [
        ...spacedRoles('a', `${problem.a}`),
        ...symbols('separator', ' '),
        ...symbols('operator', '*'),
        ...symbols('separator', ' '),
        ...spacedRoles('b', `${problem.b}`),
        ...symbols('operator', '||'),
      ],
      target: [
        ...chainOfThought(problem.a, problem.b).flatMap((piece) => piece.roles),
        ...symbols('separator', ' '),
        ...symbols('operator', '####'),
        ...symbols('separator', ' '),
        ...spacedRoles('answer', paddedProduct(problem)),
        ...symbols('separator', '\n'),
      ],
    };
  },
};
