import { OP_SYMBOL, answerOf } from '../problem.ts';
import type { DataFormat } from './format.ts';
import { DIGITS, beforeDelimiter, checkProblem, fail, opSymbols, parseReversedDigits, reverseText, vocabularyOf } from './digits.ts';
import { digitsLsbFirst, symbols, operandsPrompt } from './roles.ts';

/**
 * Lee'23 reversed: `$128+367=594$\n`. Only the answer is reversed, least significant digit first, so the
 * model emits digits in the order carries propagate. Reversal keeps the zeros it produces: 999+1 → `0001`.
 */
export const reversed: DataFormat = {
  name: 'reversed',
  description: "Lee'23 reversed answer, delimited: $128+367=594$",
  ops: ['add', 'mul'],
  encode(problem) {
    checkProblem(reversed, problem);
    return {
      prompt: `$${problem.a}${OP_SYMBOL[problem.op]}${problem.b}=`,
      target: `${reverseText(answerOf(problem).toString())}$\n`,
    };
  },
  parse(generated) {
    const answer = beforeDelimiter(generated, '$');
    if (answer === null) return fail("no closing '$'");
    return parseReversedDigits(answer);
  },
  vocabulary() {
    return vocabularyOf(DIGITS, opSymbols(reversed.ops), '=$\n');
  },
  roles(problem) {
    return {
      prompt: operandsPrompt(`${problem.a}`, `${problem.b}`, symbols('separator', '$'), symbols('operator', '=')),
      target: [...digitsLsbFirst('answer', `${answerOf(problem)}`), ...symbols('separator', '$\n')],
    };
  },
};
