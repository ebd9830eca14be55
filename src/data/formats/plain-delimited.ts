import { OP_SYMBOL, answerOf } from '../problem.ts';
import type { DataFormat } from './format.ts';
import { DIGITS, beforeDelimiter, checkProblem, fail, opSymbols, parseDigits, vocabularyOf } from './digits.ts';
import { digitsMsbFirst, symbols, operandsPrompt } from './roles.ts';

/**
 * Lee'23 plain with `$` delimiters: `$128+367=495$\n`. The leading `$` is part of the prompt (Lee's test
 * prompts included it); the closing `$` marks a finished answer, so parse requires it.
 */
export const plainDelimited: DataFormat = {
  name: 'plain-delimited',
  description: "Lee'23 plain, delimited: $128+367=495$",
  ops: ['add', 'mul'],
  encode(problem) {
    checkProblem(plainDelimited, problem);
    return {
      prompt: `$${problem.a}${OP_SYMBOL[problem.op]}${problem.b}=`,
      target: `${answerOf(problem)}$\n`,
    };
  },
  parse(generated) {
    const answer = beforeDelimiter(generated, '$');
    if (answer === null) return fail("no closing '$'");
    return parseDigits(answer);
  },
  vocabulary() {
    return vocabularyOf(DIGITS, opSymbols(plainDelimited.ops), '=$\n');
  },
  roles(problem) {
    return {
      prompt: operandsPrompt(`${problem.a}`, `${problem.b}`, symbols('separator', '$'), symbols('operator', '=')),
      target: [...digitsMsbFirst('answer', `${answerOf(problem)}`), ...symbols('separator', '$\n')],
    };
  },
};
