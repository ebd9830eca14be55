import { OP_SYMBOL, answerOf } from '../problem.ts';
import type { DataFormat } from './format.ts';
import { checkProblem, reverseText } from './digits.ts';
import { reversed } from './reversed.ts';
import { digitsLsbFirst, symbols } from './roles.ts';

/**
 * McLeish et al. 2024 ("reverse_all" in their data paths): operands and answer all least significant digit
 * first, with `reversed`'s delimiters: 128+367 → `$821+763=594$\n`. Every number starts with its units, so the
 * digits a column adds sit at a fixed distance from the `$` and the `+` however long the numbers are, where
 * `reversed` puts the units of a at the end of a number of any length.
 */
export const reversedAll: DataFormat = {
  name: 'reversed-all',
  description: "McLeish'24 operands and answer reversed, delimited: $821+763=594$",
  ops: ['add', 'mul'],
  encode(problem) {
    checkProblem(reversedAll, problem);
    return {
      prompt: `$${reverseText(`${problem.a}`)}${OP_SYMBOL[problem.op]}${reverseText(`${problem.b}`)}=`,
      target: `${reverseText(answerOf(problem).toString())}$\n`,
    };
  },
  // The answer and its delimiters are `reversed`'s; only the operands' order differs.
  parse: reversed.parse,
  vocabulary: reversed.vocabulary,
  roles(problem) {
    return {
      prompt: [
        ...symbols('separator', '$'),
        ...digitsLsbFirst('a', `${problem.a}`),
        ...symbols('operator', OP_SYMBOL[problem.op]),
        ...digitsLsbFirst('b', `${problem.b}`),
        ...symbols('operator', '='),
      ],
      target: [...digitsLsbFirst('answer', `${answerOf(problem)}`), ...symbols('separator', '$\n')],
    };
  },
};
