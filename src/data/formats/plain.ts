import { OP_SYMBOL, answerOf } from '../problem.ts';
import type { DataFormat } from './format.ts';
import { DIGITS, checkProblem, firstLine, opSymbols, parseDigits, vocabularyOf } from './digits.ts';
import { digitsMsbFirst, symbols, operandsPrompt } from './roles.ts';

/** Lee'23 plain: `128+367=495\n`. The prompt is everything up to and including `=`, as in Lee's evaluation. */
export const plain: DataFormat = {
  name: 'plain',
  description: "Lee'23 plain: 128+367=495",
  ops: ['add', 'mul'],
  encode(problem) {
    checkProblem(plain, problem);
    return {
      prompt: `${problem.a}${OP_SYMBOL[problem.op]}${problem.b}=`,
      target: `${answerOf(problem)}\n`,
    };
  },
  parse(generated) {
    return parseDigits(firstLine(generated));
  },
  vocabulary() {
    return vocabularyOf(DIGITS, opSymbols(plain.ops), '=\n');
  },
  roles(problem) {
    return {
      prompt: operandsPrompt(`${problem.a}`, `${problem.b}`, [], symbols('operator', '=')),
      target: [...digitsMsbFirst('answer', `${answerOf(problem)}`), ...symbols('separator', '\n')],
    };
  },
};
