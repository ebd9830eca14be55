import { OP_SYMBOL, type Op } from '../data/problem.ts';
import { largestRunningSum } from '../data/sampling.ts';
import type { Prediction } from '../inference/prediction.ts';
import { createRandom } from '../random.ts';
import { predictionsByCell } from './length.ts';
import type { Probe } from './probe.ts';
import { cellLabel, lengthGrid, shuffled } from './problemSets.ts';
import { ERROR_KINDS, type ErrorKind, errorKind, firstWrongPosition } from './tally.ts';

/** Wrong answers shown per probe run; enough to see patterns, few enough to read. */
const EXAMPLES = 40;

export interface ErrorExample {
  problem: string;
  digitsA: number;
  digitsB: number;
  inTrainingRange: boolean;
  prompt: string;
  /** Raw generated text after the prompt. */
  output: string;
  expected: string;
  /** Parsed answer, or null when the output did not parse. */
  got: string | null;
  /** Lowest differing digit position, 0 = units; null when the output did not parse. */
  firstWrongDigit: number | null;
  parseError: string | null;
}

export interface ErrorsResult {
  probe: 'errors';
  description: string;
  /** Problems looked at (the length grid) and how many were wrong. */
  problems: number;
  wrong: number;
  unparsed: number;
  /** Wrong answers by their first wrong digit position (`unparsed` for outputs that did not parse). */
  byFirstWrongDigit: Record<string, number>;
  /** Same, restricted to trained lengths, where an error is a failure to learn rather than to generalize. */
  byFirstWrongDigitInRange: Record<string, number>;
  /**
   * Wrong answers by kind (tally.ts `errorKind`: too few digits, too many, wrong digits, unparsed), at trained
   * lengths and beyond them. Older probe files lack it.
   */
  byKind?: { inRange: Record<ErrorKind, number>; beyond: Record<ErrorKind, number> };
  /**
   * Problems and wrong answers at trained lengths by the largest running sum ĉ_k of any answer column (the
   * column's partial products or digits plus the carry in, src/data/runningSum.ts), in bins of `width`: which
   * problems a model has not learned, where uniform data seldom goes. Older probe files lack it.
   */
  byLargestColumnSum?: { width: number; bins: { from: number; problems: number; wrong: number }[] };
  examples: ErrorExample[];
}

/** Bin width of `byLargestColumnSum`: a 4x4 product's middle column runs to about 300, a sum's to 19. */
export const COLUMN_SUM_BIN: Record<Op, number> = { mul: 30, add: 5 };

function byLargestColumnSum(predictions: Prediction[], op: Op): NonNullable<ErrorsResult['byLargestColumnSum']> {
  const width = COLUMN_SUM_BIN[op];
  const bins = new Map<number, { from: number; problems: number; wrong: number }>();
  for (const p of predictions) {
    const from = Math.floor(largestRunningSum(p.problem) / width) * width;
    const bin = bins.get(from) ?? { from, problems: 0, wrong: 0 };
    bin.problems++;
    if (!p.correct) bin.wrong++;
    bins.set(from, bin);
  }
  return { width, bins: [...bins.values()].sort((x, y) => x.from - y.from) };
}

/**
 * Wrong answers from the length grid (no extra decoding when the length probe runs too). The examples are
 * drawn round-robin over cells, trained cells first, each cell's errors in a seeded random order, so errors
 * at trained lengths are never crowded out by the many failures beyond them.
 */
export const errorsProbe: Probe<ErrorsResult> = {
  name: 'errors',
  description: 'a sample of wrong answers: prompt, expected, got, first wrong digit from the units',
  problems: (context) => lengthGrid(context).flatMap((cell) => cell.problems),
  run(context, { predictions }) {
    const grid = lengthGrid(context);
    const byCell = predictionsByCell(grid, predictions);
    const random = createRandom(context.seed, 'probe:errors');
    const example = (prediction: Prediction, cell: (typeof grid)[number]): ErrorExample => {
      const { problem, expected } = prediction;
      return {
        problem: `${problem.a}${OP_SYMBOL[problem.op]}${problem.b}`,
        digitsA: cell.digitsA,
        digitsB: cell.digitsB,
        inTrainingRange: cell.inTrainingRange,
        prompt: prediction.prompt,
        output: prediction.output,
        expected: expected.toString(),
        got: prediction.answer === null ? null : prediction.answer.toString(),
        firstWrongDigit: prediction.answer === null ? null : firstWrongPosition(expected, prediction.answer),
        parseError: prediction.parseError,
      };
    };
    const queues = grid
      .map((cell, i) => ({
        cell,
        wrong: shuffled(
          byCell[i].filter((p) => !p.correct),
          random,
        ),
      }))
      .sort((x, y) => Number(y.cell.inTrainingRange) - Number(x.cell.inTrainingRange));
    const counts = (inRangeOnly: boolean) => {
      const histogram: Record<string, number> = {};
      for (const { cell, wrong } of queues) {
        if (inRangeOnly && !cell.inTrainingRange) continue;
        for (const p of wrong) {
          const key = p.answer === null ? 'unparsed' : String(firstWrongPosition(p.expected, p.answer));
          histogram[key] = (histogram[key] ?? 0) + 1;
        }
      }
      return histogram;
    };
    const kinds = (inRange: boolean) => {
      const tally = Object.fromEntries(ERROR_KINDS.map((kind) => [kind, 0])) as Record<ErrorKind, number>;
      for (const { cell, wrong } of queues) {
        if (cell.inTrainingRange !== inRange) continue;
        for (const p of wrong) tally[errorKind(p.expected, p.answer)]++;
      }
      return tally;
    };
    const examples: ErrorExample[] = [];
    for (let round = 0; examples.length < EXAMPLES; round++) {
      const takers = queues.filter((q) => round < q.wrong.length);
      if (takers.length === 0) break;
      for (const q of takers.slice(0, EXAMPLES - examples.length)) examples.push(example(q.wrong[round], q.cell));
    }
    const all = queues.flatMap((q) => q.wrong);
    return {
      probe: 'errors',
      description: errorsProbe.description,
      problems: predictions.length,
      wrong: all.length,
      unparsed: all.filter((p) => p.answer === null).length,
      byFirstWrongDigit: counts(false),
      byFirstWrongDigitInRange: counts(true),
      byKind: { inRange: kinds(true), beyond: kinds(false) },
      byLargestColumnSum: byLargestColumnSum(
        grid.flatMap((cell, i) => (cell.inTrainingRange ? byCell[i] : [])),
        context.experiment.task.op,
      ),
      examples,
    };
  },
  table(result) {
    const histogram = (h: Record<string, number>) =>
      Object.entries(h)
        .sort(([x], [y]) => (x === 'unparsed' ? 1 : y === 'unparsed' ? -1 : Number(x) - Number(y)))
        .map(([k, v]) => `${k === 'unparsed' ? k : 'd' + k}:${v}`)
        .join(' ') || '-';
    const kinds = (tally: Record<ErrorKind, number>) =>
      `stopped early ${tally.short}, did not stop ${tally.long}, wrong digits ${tally.digits}, unparsed ${tally.unparsed}`;
    const lines = [
      `errors: ${result.wrong} of ${result.problems} wrong (${result.unparsed} did not parse)`,
      ...(result.byKind
        ? [`kind, trained cells: ${kinds(result.byKind.inRange)}`, `kind, beyond them:   ${kinds(result.byKind.beyond)}`]
        : []),
      `first wrong digit (d0 = units), all cells: ${histogram(result.byFirstWrongDigit)}`,
      `first wrong digit, trained cells only:     ${histogram(result.byFirstWrongDigitInRange)}`,
      ...(result.byLargestColumnSum
        ? [
            `wrong / problems by the largest column running sum, trained cells: ${
              result.byLargestColumnSum.bins
                .map((b) => `${b.from}-${b.from + result.byLargestColumnSum!.width - 1}: ${b.wrong}/${b.problems}`)
                .join(', ') || '-'
            }`,
          ]
        : []),
      `${'cell'.padEnd(6)} ${'problem'.padEnd(24)} ${'expected'.padStart(12)} ${'got'.padStart(12)}  first wrong`,
    ];
    for (const e of result.examples) {
      const cell = cellLabel(e) + (e.inTrainingRange ? '*' : '');
      const got = e.got ?? `? ${JSON.stringify(e.output.slice(0, 20))}`;
      lines.push(
        `${cell.padEnd(6)} ${e.problem.padEnd(24)} ${e.expected.padStart(12)} ${got.padStart(12)}  ${e.firstWrongDigit === null ? e.parseError : 'd' + e.firstWrongDigit}`,
      );
    }
    return lines.join('\n');
  },
};
