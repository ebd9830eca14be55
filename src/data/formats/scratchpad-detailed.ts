import { answerOf } from '../problem.ts';
import type { DataFormat } from './format.ts';
import { digitsMsbFirst, symbols, operandsPrompt } from './roles.ts';
import { DIGITS, additionColumns, checkProblem, fail, vocabularyOf } from './digits.ts';

/** `[1,2,8]`: Lee's scratchpad writes numbers as digit lists. */
function digitList(digits: readonly string[]): string {
  return `[${digits.join(',')}]`;
}

/**
 * Lee'23 detailed scratchpad, byte-exact to their generated files. Each step pops the last digit of each
 * operand list (an empty list contributes 0), prepends the sum digit to A and shows the carry. Quirks kept
 * from the original: "has 1 digits.", and no ` ,` before `C=` on the END line. A final carry appears only
 * in the answer, which is written with spaces between digits.
 */
export const scratchpadDetailed: DataFormat = {
  name: 'scratchpad-detailed',
  description: "Lee'23 detailed scratchpad (<scratch> digit lists, carries, END), addition only",
  ops: ['add'],
  encode(problem) {
    checkProblem(scratchpadDetailed, problem);
    const remainingA = [...problem.a.toString()];
    const remainingB = [...problem.b.toString()];
    const lines = [
      '<scratch>',
      `${digitList(remainingA)} has ${remainingA.length} digits.`,
      `${digitList(remainingB)} has ${remainingB.length} digits.`,
    ];
    const answerDigits: number[] = [];
    let carry = 0;
    for (const column of additionColumns(problem.a, problem.b)) {
      const digit = column.sum % 10;
      carry = column.sum >= 10 ? 1 : 0;
      lines.push(
        `${digitList(remainingA)} + ${digitList(remainingB)} , A=${digitList(answerDigits.map(String))} , ` +
          `C=${column.carryIn} , ${column.digitA}+${column.digitB}+${column.carryIn}=${column.sum} , ` +
          `A->${digit} , C->${carry}`,
      );
      remainingA.pop();
      remainingB.pop();
      answerDigits.unshift(digit);
    }
    lines.push(`[] + [] , A=${digitList(answerDigits.map(String))} C=${carry} , END`, '</scratch>');
    lines.push([...answerOf(problem).toString()].join(' '));
    return {
      prompt: `Input:\n${problem.a}+${problem.b}\nTarget:\n`,
      target: `${lines.join('\n')}\n`,
    };
  },
  parse(generated) {
    const lines = generated.split('\n');
    const scratchEnd = lines.indexOf('</scratch>');
    if (scratchEnd === -1) return fail('no </scratch> line');
    if (scratchEnd + 1 >= lines.length) return fail('missing answer line');
    const answerLine = lines[scratchEnd + 1];
    if (answerLine.length === 0) return fail('empty answer');
    if (!/^\d( \d)*$/.test(answerLine)) {
      return fail(`answer line is not space-separated digits: ${JSON.stringify(answerLine.slice(0, 40))}`);
    }
    return { ok: true, answer: BigInt(answerLine.replaceAll(' ', '')) };
  },
  vocabulary() {
    return vocabularyOf(DIGITS, '+\n', 'Input:Target', '<scratch>/[,] has digits.', 'A=C->END');
  },
  roles(problem) {
    const answer = answerOf(problem).toString();
    const answerLine = [...digitsMsbFirst('answer', answer)].flatMap((role, i) =>
      i === 0 ? [role] : [...symbols('separator', ' '), role],
    );
    // Everything before the answer line is scratch work (its digit lists repeat operand digits as text).
    const scratch = scratchpadDetailed.encode(problem, { padWidth: 1, maxDigits: 1 }).target.length - (2 * answer.length - 1) - 1;
    return {
      prompt: operandsPrompt(`${problem.a}`, `${problem.b}`, symbols('text', 'Input:\n'), symbols('text', '\nTarget:\n')),
      target: [
        ...Array.from({ length: scratch }, () => ({ kind: 'text' as const, significance: null })),
        ...answerLine,
        ...symbols('separator', '\n'),
      ],
    };
  },
};
