import type { Prediction } from '../inference/prediction.ts';
import { positionalLabel } from '../models/positional/index.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { lengthGrid, type GridCell } from './problemSets.ts';
import { percent, tallyOf, type Tally } from './tally.ts';

export interface LengthCell extends Tally {
  digitsA: number;
  digitsB: number;
  inTrainingRange: boolean;
  source: GridCell['source'];
  seenInTraining: GridCell['seenInTraining'];
}

export interface LengthResult {
  probe: 'length';
  description: string;
  op: string;
  format: string;
  pos: string;
  seed: number;
  samples: number;
  trainDigits: [number, number];
  testDigits: [number, number];
  maxDigits: number;
  requestedMaxDigits: number;
  maxDigitsLimit: string | null;
  /**
   * The operand lengths probed when they were listed (`probe --lengths`): then only equal-length cells were
   * measured. Absent or null: the whole grid 1..maxDigits.
   */
  lengths?: number[] | null;
  /** Every cell, a-major: digitsA 1..maxDigits, then digitsB (with `lengths`, one cell per listed length). */
  cells: LengthCell[];
  /** accuracy[digitsA - 1][digitsB - 1], for drawing the grid directly; with `lengths`, [] (no grid). */
  accuracy: (number | null)[][];
  /** Equal operand lengths: the Kazemnejad/Zhou curve. */
  diagonal: LengthCell[];
  /** Pooled exact match over the diagonal inside and beyond the training range, and over the whole grid. */
  summary: { diagonalInRange: number | null; diagonalBeyond: number | null; gridInRange: number | null; gridBeyond: number | null };
}

const mean = (values: (number | null)[]) => {
  const present = values.filter((v): v is number => v !== null);
  return present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
};

/** Splits predictions back into the grid cells they were made for (the grid lists cells in order). */
export function predictionsByCell(cells: GridCell[], predictions: Prediction[]): Prediction[][] {
  let offset = 0;
  return cells.map((cell) => predictions.slice(offset, (offset += cell.problems.length)));
}

export function lengthResult(context: ProbeContext, predictions: Prediction[]): LengthResult {
  const { experiment, maxDigits } = context;
  const grid = lengthGrid(context);
  const byCell = predictionsByCell(grid, predictions);
  const cells: LengthCell[] = grid.map((cell, i) => ({
    digitsA: cell.digitsA,
    digitsB: cell.digitsB,
    inTrainingRange: cell.inTrainingRange,
    source: cell.source,
    seenInTraining: cell.seenInTraining,
    ...tallyOf(byCell[i].map((p) => p.correct)),
  }));
  const accuracy = context.lengths
    ? []
    : Array.from({ length: maxDigits }, (_, a) => cells.slice(a * maxDigits, (a + 1) * maxDigits).map((c) => c.accuracy));
  const diagonal = cells.filter((c) => c.digitsA === c.digitsB);
  const config = experiment.config;
  return {
    probe: 'length',
    description: lengthProbe.description,
    op: config.task.op,
    format: config.format.name,
    pos: positionalLabel(config.model.pos),
    seed: context.seed,
    samples: context.samples,
    trainDigits: config.task.train_digits,
    testDigits: config.task.test_digits,
    maxDigits,
    requestedMaxDigits: context.requestedMaxDigits,
    maxDigitsLimit: context.maxDigitsLimit,
    lengths: context.lengths,
    cells,
    accuracy,
    diagonal,
    // Means of per-cell accuracies, as the training log's accuracy_in_range averages per-length accuracies.
    summary: {
      diagonalInRange: mean(diagonal.filter((c) => c.inTrainingRange).map((c) => c.accuracy)),
      diagonalBeyond: mean(diagonal.filter((c) => !c.inTrainingRange).map((c) => c.accuracy)),
      gridInRange: mean(cells.filter((c) => c.inTrainingRange).map((c) => c.accuracy)),
      gridBeyond: mean(cells.filter((c) => !c.inTrainingRange).map((c) => c.accuracy)),
    },
  };
}

export const lengthProbe: Probe<LengthResult> = {
  name: 'length',
  description: 'exact match on a grid of (digits of a) x (digits of b), in and beyond the training range',
  problems: (context) => lengthGrid(context).flatMap((cell) => cell.problems),
  run: (context, { predictions }) => lengthResult(context, predictions),
  table(result) {
    const n = result.maxDigits;
    const lines = result.lengths
      ? [
          `length: exact match % at the listed lengths, both operands n digits, ${result.samples} problems each; trained on ${result.trainDigits.join('-')} digits`,
        ]
      : [
          `length: exact match % by digits of a (rows) x digits of b (columns), ${result.samples} problems per cell; [..] = trained lengths`,
        ];
    if (result.maxDigitsLimit) lines.push(`  capped at ${n} digits: ${result.maxDigitsLimit}`);
    if (!result.lengths) lines.push(...gridLines(result));
    lines.push('diagonal (both operands n digits):');
    // A diagonal of many lengths wraps at 20 columns, so a 100-digit probe stays readable in a terminal.
    for (let start = 0; start < result.diagonal.length; start += DIAGONAL_COLUMNS) {
      const chunk = result.diagonal.slice(start, start + DIAGONAL_COLUMNS);
      lines.push('   n ' + chunk.map((c) => String(c.digitsA).padStart(6)).join(''));
      lines.push('   % ' + chunk.map((c) => percent(c.accuracy, 6)).join(''));
    }
    const s = result.summary;
    lines.push(
      result.lengths
        ? `diagonal in range ${percent(s.diagonalInRange, 0)}%, beyond ${percent(s.diagonalBeyond, 0)}%`
        : `diagonal in range ${percent(s.diagonalInRange, 0)}%, beyond ${percent(s.diagonalBeyond, 0)}%; grid in range ${percent(s.gridInRange, 0)}%, beyond ${percent(s.gridBeyond, 0)}%`,
    );
    return lines.join('\n');
  },
};

const DIAGONAL_COLUMNS = 20;

/** The grid's rows, a header of b lengths first. */
function gridLines(result: LengthResult): string[] {
  const n = result.maxDigits;
  const lines = [' a\\b ' + Array.from({ length: n }, (_, b) => String(b + 1).padStart(6)).join('')];
  for (let a = 0; a < n; a++) {
    const row = result.cells
      .slice(a * n, (a + 1) * n)
      .map((c) => (c.inTrainingRange ? `[${percent(c.accuracy, 4)}]` : ` ${percent(c.accuracy, 4)} `));
    lines.push(`${String(a + 1).padStart(4)} ${row.join('')}`);
  }
  return lines;
}
