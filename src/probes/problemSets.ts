import { sequenceLength } from '../data/batches.ts';
import { buildTestSets, heldOutKeys, TrainStream, type TaskSpec } from '../data/dataset.ts';
import { longestProblem, problemKey, type Problem } from '../data/problem.ts';
import { sampleOperand } from '../data/sampling.ts';
import type { Experiment } from '../config/experiment.ts';
import { getPositionalEncoding, positionalLabel } from '../models/positional/index.ts';
import { createRandom, type Random } from '../random.ts';
import type { ProbeContext } from './probe.ts';

/** The problem sets probes share. Drawn from named seeded streams, so the same seed gives the same problems. */

/** Both operand lengths inside the training range: the uniform sampler draws each length independently. */
export function isTrainedCell(task: TaskSpec, digitsA: number, digitsB: number): boolean {
  const [lo, hi] = task.trainDigits;
  return digitsA >= lo && digitsA <= hi && digitsB >= lo && digitsB <= hi;
}

/**
 * Longest operand length (up to `requested`) whose longest example the format can write and the model can
 * read: index hints exist only up to the run's maxDigits, and a learned position table ends at max_len.
 * Positional encodings that extrapolate are allowed past max_len: that is what length probes measure.
 */
export function representableDigits(experiment: Experiment, requested: number): { maxDigits: number; limit: string | null } {
  const extrapolates = getPositionalEncoding(experiment.model.pos).extrapolates;
  let reason: string | null = null;
  for (let digits = requested; digits >= 1; digits--) {
    const problem = longestProblem(experiment.task.op, digits);
    let tokens: number;
    try {
      tokens = sequenceLength(experiment.format.encode(problem, experiment.formatOptions), experiment.tokenizer);
    } catch (error) {
      reason ??= `format "${experiment.format.name}" cannot write ${digits}-digit operands for this run (${(error as Error).message})`;
      continue;
    }
    if (!extrapolates && tokens > experiment.model.maxLen) {
      reason ??= `${digits}-digit problems need ${tokens} tokens, beyond the learned "${positionalLabel(experiment.model.pos)}" table (model.max_len ${experiment.model.maxLen})`;
      continue;
    }
    return { maxDigits: digits, limit: digits < requested ? reason : null };
  }
  throw new Error(`no operand length is representable: ${reason}`);
}

/**
 * Up to `count` distinct problems from `draw`, skipping `excluded` keys. Stops early when the cell's problem
 * space is smaller than `count` (1-digit pairs number 100) or exclusions leave too few.
 */
export function drawDistinct(count: number, space: bigint, draw: () => Problem, excluded?: ReadonlySet<string>): Problem[] {
  const target = BigInt(count) < space ? count : Number(space);
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (let attempts = 0; problems.length < target && attempts < 100 * target + 1000; attempts++) {
    const problem = draw();
    const key = problemKey(problem);
    if (seen.has(key) || excluded?.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

export interface GridCell {
  digitsA: number;
  digitsB: number;
  inTrainingRange: boolean;
  /** `held-out`: the first problems of the run's test set for this length (diagonal cells in task.test_digits). */
  source: 'held-out' | 'sampled';
  /**
   * `no` for held-out cells, cells outside the training range and cells drawn without a fixed training set's
   * problems; `possible` for sampled in-range cells of a run that trained on fresh problems every batch.
   */
  seenInTraining: 'no' | 'possible';
  problems: Problem[];
}

const grids = new WeakMap<ProbeContext, GridCell[]>();

/** The operand lengths probes measure: the listed ones, or every one from 1 to `maxDigits`. */
export function probedLengths(context: ProbeContext): number[] {
  return context.lengths ?? Array.from({ length: context.maxDigits }, (_, i) => i + 1);
}

/**
 * Problems for every (digits of a) × (digits of b) cell up to `maxDigits` (with listed lengths, only the
 * equal-length cells of those). Diagonal cells inside the test
 * range reuse the run's held-out test problems, so the in-range diagonal is exactly what training evaluated.
 * Shared by several probes within one run (memoised per context).
 */
export function lengthGrid(context: ProbeContext): GridCell[] {
  const cached = grids.get(context);
  if (cached) return cached;
  const { experiment, seed, samples } = context;
  const { task, config } = experiment;
  const testSets = buildTestSets(task, config.seed);
  const fixedTraining = new TrainStream(task, config.seed, heldOutKeys(testSets)).problems;
  const trainingKeys = fixedTraining ? new Set(fixedTraining.map(problemKey)) : undefined;
  const cells: GridCell[] = [];
  for (const digitsA of probedLengths(context)) {
    for (const digitsB of context.lengths ? [digitsA] : probedLengths(context)) {
      const inTrainingRange = isTrainedCell(task, digitsA, digitsB);
      const heldOut = digitsA === digitsB ? testSets.get(digitsA) : undefined;
      if (heldOut) {
        cells.push({ digitsA, digitsB, inTrainingRange, source: 'held-out', seenInTraining: 'no', problems: heldOut.slice(0, samples) });
        continue;
      }
      const random = createRandom(seed, `probe:grid:${digitsA}x${digitsB}`);
      const draw = (): Problem => ({ op: task.op, a: sampleOperand(random, digitsA), b: sampleOperand(random, digitsB) });
      const excluded = inTrainingRange ? trainingKeys : undefined;
      const problems = drawDistinct(samples, operandPairs(digitsA, digitsB), draw, excluded);
      const seenInTraining = inTrainingRange && !trainingKeys ? 'possible' : 'no';
      cells.push({ digitsA, digitsB, inTrainingRange, source: 'sampled', seenInTraining, problems });
    }
  }
  grids.set(context, cells);
  return cells;
}

/** Distinct (a, b) pairs with these operand lengths (1 digit includes 0, as sampleOperand draws it). */
export function operandPairs(digitsA: number, digitsB: number): bigint {
  const operands = (digits: number) => (digits === 1 ? 10n : 9n * 10n ** BigInt(digits - 1));
  return operands(digitsA) * operands(digitsB);
}

/** The grid's equal-length cells, shortest first. */
export function diagonalCells(context: ProbeContext): GridCell[] {
  return lengthGrid(context).filter((cell) => cell.digitsA === cell.digitsB);
}

export function cellLabel(cell: { digitsA: number; digitsB: number }): string {
  return `${cell.digitsA}x${cell.digitsB}`;
}

/** A seeded Fisher-Yates shuffle (copy). */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
