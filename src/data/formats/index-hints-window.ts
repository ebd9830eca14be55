import { answerOf, digitCount, problemKey, type Problem } from '../problem.ts';
import type { DataFormat } from './format.ts';
import { DIGITS, checkProblem, fail, firstLine, padDigits, vocabularyOf } from './digits.ts';
import { hintRole, symbols } from './roles.ts';

/**
 * The ordered set of hint symbols: one letter each, so a hint is one token that no digit can extend and no
 * separator is needed between a hint and its digit (Zhou et al. 2023 write `a4b2+a3b9=a8b1` the same way).
 */
export const HINT_SYMBOLS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** 32-bit FNV-1a of the problem: where the window starts, fixed per problem and spread evenly over problems. */
function problemHash(problem: Problem): number {
  let hash = 0x811c9dc5;
  for (const character of problemKey(problem)) {
    hash ^= character.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Operands pad to (longest + 1) digits, as in `index-hints`; the window covers that many symbols. */
function layout(problem: Problem): { width: number; start: number } {
  const width = Math.max(digitCount(problem.a), digitCount(problem.b)) + 1;
  if (width > HINT_SYMBOLS.length) {
    throw new Error(`index-hints-window: ${width - 1}-digit operands need ${width} hint symbols; it has ${HINT_SYMBOLS.length}`);
  }
  return { width, start: problemHash(problem) % (HINT_SYMBOLS.length - width + 1) };
}

/** `a0b0c8d8`: each padded digit preceded by its window's symbol, most significant first. */
function hinted(digits: string, start: number): string {
  return [...digits].map((digit, i) => `${HINT_SYMBOLS[start + i]}${digit}`).join('');
}

/**
 * Index hints as Zhou et al. trained them ("What Algorithms can Transformers Learn?", 2023; "Transformers Can
 * Achieve Length Generalization But Not Robustly", 2024): the hints of one example are a consecutive window of
 * a larger ordered set of symbols (HINT_SYMBOLS, 52 letters), starting at a point drawn per problem, so every
 * symbol is trained on short numbers and longer test numbers use symbols seen in training. Answer reversed,
 * walking the symbols down: 88+842 with the window starting at `a` → `a0b0c8d8+a0b8c4d2=` then `d0c3b9a0\n`.
 * The start is a hash of the problem, not a draw from the run's stream: `encode` stays a function of the
 * problem, and a fresh training stream still sees windows spread over the whole set.
 */
export const indexHintsWindow: DataFormat = {
  name: 'index-hints-window',
  description: "Zhou'24 index hints: a random window of 52 letter hints, no separators: a0b8c8+a0b4c2=c0b3a1",
  ops: ['add'],
  encode(problem) {
    checkProblem(indexHintsWindow, problem);
    const { width, start } = layout(problem);
    const answer = [...padDigits(answerOf(problem), width)].map((digit, i) => `${HINT_SYMBOLS[start + i]}${digit}`).reverse();
    return {
      prompt: `${hinted(padDigits(problem.a, width), start)}+${hinted(padDigits(problem.b, width), start)}=`,
      target: `${answer.join('')}\n`,
    };
  },
  parse(generated) {
    const line = firstLine(generated);
    if (line.length === 0) return fail('empty answer');
    if (line.length % 2 !== 0) return fail('answer is not hint/digit pairs');
    const digitsLeastFirst: string[] = [];
    for (let pair = 0; pair < line.length / 2; pair++) {
      const [symbol, digit] = [line[2 * pair], line[2 * pair + 1]];
      const index = HINT_SYMBOLS.indexOf(symbol);
      if (index === -1) return fail(`expected a hint symbol, got ${JSON.stringify(symbol)}`);
      if (pair > 0 && index !== HINT_SYMBOLS.indexOf(line[2 * pair - 2]) - 1) {
        return fail(`hint ${symbol} does not follow ${line[2 * pair - 2]} downwards`);
      }
      if (!/^\d$/.test(digit)) return fail(`expected a digit after ${symbol}, got ${JSON.stringify(digit)}`);
      digitsLeastFirst.push(digit);
    }
    return { ok: true, answer: BigInt(digitsLeastFirst.reverse().join('')) };
  },
  vocabulary() {
    return vocabularyOf(DIGITS, '+=\n', HINT_SYMBOLS);
  },
  roles(problem) {
    const { width } = layout(problem);
    // Hint then digit per padded position; position i (most significant first) has significance width - 1 - i.
    const hintedRoles = (kind: 'a' | 'b') =>
      Array.from({ length: width }, (_, i) => [hintRole(width - 1 - i), { kind, significance: width - 1 - i }]).flat();
    const answer = Array.from({ length: width }, (_, k) => [hintRole(k), { kind: 'answer' as const, significance: k }]).flat();
    return {
      prompt: [...hintedRoles('a'), ...symbols('operator', '+'), ...hintedRoles('b'), ...symbols('operator', '=')],
      target: [...answer, ...symbols('separator', '\n')],
    };
  },
};
