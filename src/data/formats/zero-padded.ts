import { OP_SYMBOL, answerOf } from '../problem.ts';
import type { DataFormat } from './format.ts';
import { DIGITS, checkProblem, firstLine, opSymbols, padDigits, parseDigits, vocabularyOf } from './digits.ts';
import { digitsMsbFirst, symbols, operandsPrompt } from './roles.ts';

/**
 * Lee'23 fixed width, `f"{a:03}+{b:03}={a+b:04}"`: 12+345 → `012+345=0357\n` for padWidth 3. Operands pad
 * to padWidth and the answer to the widest it can be (padWidth+1 for add, 2·padWidth for mul); all widths
 * are minimums. Parse accepts any digit string: the value, not the padding, is what is scored.
 */
export const zeroPadded: DataFormat = {
  name: 'zero-padded',
  description: "Lee'23 zero-padded fixed width: 012+345=0357",
  ops: ['add', 'mul'],
  encode(problem, options) {
    checkProblem(zeroPadded, problem);
    const width = options.padWidth;
    const answerWidth = problem.op === 'add' ? width + 1 : 2 * width;
    return {
      prompt: `${padDigits(problem.a, width)}${OP_SYMBOL[problem.op]}${padDigits(problem.b, width)}=`,
      target: `${padDigits(answerOf(problem), answerWidth)}\n`,
    };
  },
  parse(generated) {
    return parseDigits(firstLine(generated));
  },
  vocabulary() {
    return vocabularyOf(DIGITS, opSymbols(zeroPadded.ops), '=\n');
  },
  roles(problem, options) {
    const width = options.padWidth;
    const answerWidth = problem.op === 'add' ? width + 1 : 2 * width;
    return {
      prompt: operandsPrompt(padDigits(problem.a, width), padDigits(problem.b, width), [], symbols('operator', '=')),
      target: [...digitsMsbFirst('answer', padDigits(answerOf(problem), answerWidth)), ...symbols('separator', '\n')],
    };
  },
};
