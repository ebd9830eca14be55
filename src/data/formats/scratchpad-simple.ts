import { answerOf } from '../problem.ts';
import type { DataFormat } from './format.ts';
import { digitsMsbFirst, symbols, operandsPrompt } from './roles.ts';
import { DIGITS, additionColumns, checkProblem, fail, parseDigits, vocabularyOf } from './digits.ts';

/**
 * Lee'23 simplified scratchpad: one `A->digit , C->carry` line per digit of the longer operand, the last
 * ending in `.`, then the answer. A final carry shows only in the answer line (999+1 → `1000`).
 *
 *   Input:\n128+367\nTarget:\n  |  A->5 , C->1\nA->9 , C->0\nA->4 , C->0.\n495\n
 */
export const scratchpadSimple: DataFormat = {
  name: 'scratchpad-simple',
  description: "Lee'23 simplified scratchpad (A->digit , C->carry lines), addition only",
  ops: ['add'],
  encode(problem) {
    checkProblem(scratchpadSimple, problem);
    const steps = additionColumns(problem.a, problem.b).map((column) => `A->${column.sum % 10} , C->${column.sum >= 10 ? 1 : 0}`);
    return {
      prompt: `Input:\n${problem.a}+${problem.b}\nTarget:\n`,
      target: `${steps.join('\n')}.\n${answerOf(problem)}\n`,
    };
  },
  parse(generated) {
    // Only the line after the step that ends in `.` is scored, as in Lee's evaluation.
    const lines = generated.split('\n');
    const lastStep = lines.findIndex((line) => /^A->\d , C->\d\.$/.test(line));
    if (lastStep === -1) return fail("no final step line ending in '.'");
    if (lastStep + 1 >= lines.length) return fail('missing answer line');
    return parseDigits(lines[lastStep + 1]);
  },
  vocabulary() {
    return vocabularyOf(DIGITS, '+\n', 'Input:Target', 'A->C , .');
  },
  roles(problem) {
    const steps = additionColumns(problem.a, problem.b).map(() => 'A->d , C->c');
    return {
      prompt: operandsPrompt(`${problem.a}`, `${problem.b}`, symbols('text', 'Input:\n'), symbols('text', '\nTarget:\n')),
      // The step lines are scratch work: their digits are text, only the final line is the answer.
      target: [
        ...symbols('text', `${steps.join('\n')}.\n`),
        ...digitsMsbFirst('answer', `${answerOf(problem)}`),
        ...symbols('separator', '\n'),
      ],
    };
  },
};
