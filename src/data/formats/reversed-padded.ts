import { OP_SYMBOL, answerOf, type Problem } from '../problem.ts';
import type { DataFormat, FormatOptions } from './format.ts';
import { DIGITS, checkProblem, firstLine, opSymbols, padDigits, parseReversedDigits, reverseText, vocabularyOf } from './digits.ts';
import { digitsLsbFirst, symbols, operandsPrompt } from './roles.ts';

/** The operands' width: padWidth, or the longer operand where it is wider; then padExtra zeros more. */
function exampleWidth(problem: Problem, options: FormatOptions): number {
  return Math.max(options.padWidth, problem.a.toString().length, problem.b.toString().length) + (options.padExtra ?? 0);
}

/** The answer's width: the widest it can be, width + 1 for a sum unless a leading zero already leaves room. */
function answerWidth(problem: Problem, options: FormatOptions, width: number): number {
  if (problem.op === 'mul') return 2 * width;
  return (options.padExtra ?? 0) > 0 ? width : width + 1;
}

/**
 * Qiu'24 multiplication: operands zero-padded to padWidth (5 in the paper), the product zero-padded to
 * 2·padWidth and then reversed, so every example has the same length and digit positions line up:
 * 12345*678 → `12345*00678=0199638000\n`. Addition pads the sum to padWidth+1, its widest. An operand longer
 * than padWidth widens the whole example: both operands pad to the longer one and the answer to its widest
 * (Cho et al. 2024 pad addition at every length), so a 20-digit sum without a final carry still ends in 0.
 */
export const reversedPadded: DataFormat = {
  name: 'reversed-padded',
  description: "Qiu'24 padded operands, reversed padded answer: 12345*00678=0199638000",
  ops: ['mul', 'add'],
  encode(problem, options) {
    checkProblem(reversedPadded, problem);
    const width = exampleWidth(problem, options);
    return {
      prompt: `${padDigits(problem.a, width)}${OP_SYMBOL[problem.op]}${padDigits(problem.b, width)}=`,
      target: `${reverseText(padDigits(answerOf(problem), answerWidth(problem, options, width)))}\n`,
    };
  },
  parse(generated) {
    return parseReversedDigits(firstLine(generated));
  },
  vocabulary() {
    return vocabularyOf(DIGITS, opSymbols(reversedPadded.ops), '=\n');
  },
  roles(problem, options) {
    const width = exampleWidth(problem, options);
    return {
      prompt: operandsPrompt(padDigits(problem.a, width), padDigits(problem.b, width), [], symbols('operator', '=')),
      target: [
        ...digitsLsbFirst('answer', padDigits(answerOf(problem), answerWidth(problem, options, width))),
        ...symbols('separator', '\n'),
      ],
    };
  },
};
