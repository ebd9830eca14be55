import { answerOrder } from './layout.ts';
import { predictionsByCell } from './length.ts';
import type { Probe } from './probe.ts';
import { diagonalCells } from './problemSets.ts';
import { carriesInto, comparedPositions, digitAt, percent, tally, type Tally } from './tally.ts';

export interface DigitPosition extends Tally {
  /** 0 = units digit, whatever order the format writes the answer in. */
  position: number;
  /** Addition only: the same tally split by whether a carry enters this position. */
  carryIn: Tally | null;
  noCarryIn: Tally | null;
}

export interface DigitsLength {
  digits: number;
  inTrainingRange: boolean;
  problems: number;
  /** Outputs that did not parse: every digit of their expected answer counts as wrong. */
  unparsed: number;
  positions: DigitPosition[];
}

export interface DigitsResult {
  probe: 'digits';
  description: string;
  /** The order the format writes answer digits in (`lsb-first` for reversed formats). */
  answerOrder: 'msb-first' | 'lsb-first';
  samples: number;
  lengths: DigitsLength[];
}

/**
 * Per-digit accuracy of the parsed answer, per operand length (both operands n digits, the length grid's
 * diagonal problems). A position counts for a problem when the expected or the produced answer has a digit
 * there, so a spurious extra leading digit is an error at its own position.
 */
export const digitsProbe: Probe<DigitsResult> = {
  name: 'digits',
  description: 'accuracy of each answer digit, counted from the units digit, per operand length',
  problems: (context) => diagonalCells(context).flatMap((cell) => cell.problems),
  run(context, { predictions }) {
    const cells = diagonalCells(context);
    const byCell = predictionsByCell(cells, predictions);
    const lengths = cells.map((cell, i): DigitsLength => {
      const counts: { count: number; correct: number; carry: [number, number]; noCarry: [number, number] }[] = [];
      const at = (position: number) => (counts[position] ??= { count: 0, correct: 0, carry: [0, 0], noCarry: [0, 0] });
      let unparsed = 0;
      for (const prediction of byCell[i]) {
        const { problem, expected } = prediction;
        const carries = problem.op === 'add' ? carriesInto(problem.a, problem.b) : null;
        const got = prediction.answer;
        if (got === null) unparsed += 1;
        const positions = got === null ? expected.toString().length : comparedPositions(expected, got);
        for (let position = 0; position < positions; position++) {
          const right = got !== null && digitAt(got, position) === digitAt(expected, position) ? 1 : 0;
          const slot = at(position);
          slot.count += 1;
          slot.correct += right;
          if (carries) {
            const split = carries[position] ? slot.carry : slot.noCarry;
            split[0] += 1;
            split[1] += right;
          }
        }
      }
      const isAdd = context.experiment.task.op === 'add';
      return {
        digits: cell.digitsA,
        inTrainingRange: cell.inTrainingRange,
        problems: cell.problems.length,
        unparsed,
        positions: Array.from({ length: counts.length }, (_, position) => {
          const slot = at(position);
          return {
            position,
            ...tally(slot.correct, slot.count),
            carryIn: isAdd ? tally(slot.carry[1], slot.carry[0]) : null,
            noCarryIn: isAdd ? tally(slot.noCarry[1], slot.noCarry[0]) : null,
          };
        }),
      };
    });
    return {
      probe: 'digits',
      description: digitsProbe.description,
      answerOrder: answerOrder(context.experiment),
      samples: context.samples,
      lengths,
    };
  },
  table(result) {
    const width = Math.max(0, ...result.lengths.map((l) => l.positions.length));
    const lines = [
      `digits: accuracy % of each answer digit (position 0 = units; the format writes them ${result.answerOrder}), per operand length`,
      '   n ' + Array.from({ length: width }, (_, p) => `d${p}`.padStart(6)).join('') + '  unparsed',
    ];
    for (const length of result.lengths) {
      const cells = Array.from({ length: width }, (_, p) => percent(length.positions[p]?.accuracy ?? null, 6)).join('');
      lines.push(
        `${String(length.digits).padStart(3)}${length.inTrainingRange ? '*' : ' '} ${cells}  ${length.unparsed}/${length.problems}`,
      );
    }
    lines.push('* = trained length');
    return lines.join('\n');
  },
};
