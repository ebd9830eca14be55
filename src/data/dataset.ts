import { createRandom, type Random } from '../random.ts';
import { problemKey, type Problem } from './problem.ts';
import {
  balancedOneDigitPairs,
  LARGE_DIGITS_SHARE,
  LARGE_SUMS,
  problemSpaceSize,
  sampleOperand,
  sampleProblem,
  type SamplerSpec,
} from './sampling.ts';

export interface TaskSpec extends SamplerSpec {
  testDigits: [number, number];
  testSize: number;
  trainSize: number | null;
  /** Stages of operand lengths before `trainDigits`, in order of `untilStep` (empty: none). */
  curriculum?: readonly CurriculumStage[];
}

export interface CurriculumStage {
  /** Last optimizer step (1-based) whose batch draws from this stage's range. */
  untilStep: number;
  trainDigits: [number, number];
  /** How the stage draws its problems; default the task's sampling. */
  sampling?: SamplerSpec['sampling'];
}

/**
 * Operand lengths the batch of optimizer step `step` (1-based) draws from: the first curriculum stage that has
 * not ended, else the task's own range. A function of the step alone, so a resumed run draws the same.
 */
export function trainDigitsAt(task: TaskSpec, step: number): [number, number] {
  return samplerAt(task, step).trainDigits;
}

/** The lengths and sampling the batch of optimizer step `step` (1-based) draws with (see `trainDigitsAt`). */
export function samplerAt(task: TaskSpec, step: number): SamplerSpec {
  const stage = task.curriculum?.find((s) => step <= s.untilStep);
  if (!stage) return task;
  return { ...task, trainDigits: stage.trainDigits, sampling: stage.sampling ?? task.sampling };
}

/**
 * A test length inside the training range may hold out at most this share of its problem space, so training
 * keeps most problems of every length (1-digit addition has only 100).
 */
const MAX_HELD_OUT_SHARE = 0.1;

export function testLengths(task: TaskSpec): number[] {
  const [lo, hi] = task.testDigits;
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** `[1, 2]` as `1-2 digits`, `[4, 4]` as `4 digits`, `[1, 1]` as `1 digit`. */
const rangeText = ([lo, hi]: [number, number]) => (lo === hi ? `${lo} digit${lo === 1 ? '' : 's'}` : `${lo}-${hi} digits`);

/**
 * `curriculum: steps 1-1000: 1 digit; steps 1001-20000: 2 digits; then 1-3 digits`, or null without stages; a
 * stage whose sampling differs from the task's names both (`steps 1-90000: 4 digits, uniform; then 4 digits,
 * large-digits`, or `large-digits 50%` with a share other than the default).
 */
export function describeCurriculum(task: TaskSpec): string | null {
  const stages = task.curriculum ?? [];
  if (stages.length === 0) return null;
  const mixed = stages.some((stage) => (stage.sampling ?? task.sampling) !== task.sampling);
  const share = task.largeDigitsShare;
  const percent = (fraction: number) => `${Math.round(fraction * 1000) / 10}%`;
  const name = (sampling: SamplerSpec['sampling']) => {
    if (sampling === 'large-digits' && share !== undefined) return `large-digits ${percent(share)}`;
    if (sampling === 'large-sums' && task.largeSums) return `large-sums ${percent(task.largeSums.share)} from ${task.largeSums.from}`;
    if (sampling === 'large-mixed' && (share !== undefined || task.largeSums)) {
      const sums = task.largeSums ?? LARGE_SUMS;
      return `large-mixed (large digits ${percent(share ?? LARGE_DIGITS_SHARE)}, large sums ${percent(sums.share)} from ${sums.from})`;
    }
    return sampling;
  };
  const describe = (digits: [number, number], sampling: SamplerSpec['sampling']) =>
    rangeText(digits) + (mixed ? `, ${name(sampling)}` : '');
  const ranges = stages.map((stage, i) => {
    const first = i === 0 ? 1 : stages[i - 1].untilStep + 1;
    const steps = first === stage.untilStep ? `step ${first}` : `steps ${first}-${stage.untilStep}`;
    return `${steps}: ${describe(stage.trainDigits, stage.sampling ?? task.sampling)}`;
  });
  return `curriculum: ${[...ranges, `then ${describe(task.trainDigits, task.sampling)}`].join('; ')}`;
}

/**
 * Whether training ever draws operands of this length: task.train_digits or a curriculum stage. Such a length
 * must keep most of its problems for training (a stage of 1-digit operands would otherwise find all 100 held out).
 */
function isTrainedLength(task: TaskSpec, digits: number): boolean {
  const ranges = [task.trainDigits, ...(task.curriculum ?? []).map((stage) => stage.trainDigits)];
  return ranges.some(([lo, hi]) => digits >= lo && digits <= hi);
}

/** How many held-out problems a test length gets. */
export function testSetSize(task: TaskSpec, digits: number): number {
  const space = problemSpaceSize(digits);
  const cap = isTrainedLength(task, digits) ? (space * BigInt(Math.round(MAX_HELD_OUT_SHARE * 1000))) / 1000n : space;
  return Number(BigInt(task.testSize) < cap ? BigInt(task.testSize) : cap);
}

/**
 * Held-out problems for each test length (both operands exactly n digits), distinct within a length. Drawn
 * before any training data, from their own seeded stream: the training stream then rejects every one of them,
 * which is what makes train and test provably disjoint.
 */
export function buildTestSets(task: TaskSpec, seed: number): Map<number, Problem[]> {
  const sets = new Map<number, Problem[]>();
  for (const digits of testLengths(task)) {
    const random = createRandom(seed, `test:${digits}`);
    const size = testSetSize(task, digits);
    const seen = new Set<string>();
    const problems: Problem[] = [];
    while (problems.length < size) {
      const problem: Problem = { op: task.op, a: sampleOperand(random, digits), b: sampleOperand(random, digits) };
      const key = problemKey(problem);
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(problem);
    }
    sets.set(digits, problems);
  }
  return sets;
}

export function heldOutKeys(testSets: Map<number, Problem[]>): Set<string> {
  return new Set([...testSets.values()].flat().map(problemKey));
}

export interface TrainStreamState {
  random: object;
  /** Fixed-set mode: position in the current shuffled epoch. */
  cursor: number;
  epoch: number;
}

/**
 * Training problems in order. With `trainSize` null every batch is freshly sampled; otherwise a fixed set of
 * that many distinct problems is drawn once and visited in shuffled epochs. Either way no held-out problem
 * is ever produced. The stream's whole state is serialisable, so a resumed run sees the same batches.
 */
export class TrainStream {
  private random: Random;
  private readonly fixedSet: Problem[] | null;
  private order: number[] = [];
  private cursor = 0;
  private epoch = 0;

  constructor(
    private readonly task: TaskSpec,
    private readonly seed: number,
    private readonly excluded: Set<string>,
  ) {
    this.fixedSet = task.trainSize === null ? null : this.drawFixedSet(task.trainSize);
    this.random = createRandom(seed, 'train-stream');
    if (this.fixedSet) this.shuffle();
  }

  /** The fixed training set, or null when sampling fresh problems. */
  get problems(): readonly Problem[] | null {
    return this.fixedSet;
  }

  private drawFixedSet(size: number): Problem[] {
    const random = createRandom(this.seed, 'train-set');
    const seen = new Set<string>();
    const problems: Problem[] = [];
    const take = (problem: Problem) => {
      const key = problemKey(problem);
      if (seen.has(key) || this.excluded.has(key)) return;
      seen.add(key);
      problems.push(problem);
    };
    for (const pair of balancedOneDigitPairs(this.task)) if (problems.length < size) take(pair);
    let attempts = 0;
    while (problems.length < size) {
      if (++attempts > 100 * size + 10_000) {
        throw new Error(`cannot draw ${size} distinct training problems from task.train_digits outside the test sets`);
      }
      take(sampleProblem(random, this.task));
    }
    return problems;
  }

  private shuffle(): void {
    const n = this.fixedSet!.length;
    this.order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.random.int(0, i);
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
    this.cursor = 0;
  }

  private nextProblem(spec: SamplerSpec): Problem {
    if (this.fixedSet) {
      if (this.cursor >= this.order.length) {
        this.epoch += 1;
        this.shuffle();
      }
      return this.fixedSet[this.order[this.cursor++]];
    }
    for (;;) {
      const problem = sampleProblem(this.random, spec);
      if (!this.excluded.has(problemKey(problem))) return problem;
    }
  }

  /** The problems of one batch; `step` (1-based) chooses the curriculum stage (a fixed set has none). */
  next(batch: number, step: number): Problem[] {
    const spec = samplerAt(this.task, step);
    return Array.from({ length: batch }, () => this.nextProblem(spec));
  }

  state(): TrainStreamState {
    return { random: this.random.state(), cursor: this.cursor, epoch: this.epoch };
  }

  /** Restores a state taken from a stream built with the same task, seed and held-out set. */
  restore(state: TrainStreamState): void {
    this.random = createRandom(this.seed, 'train-stream', state.random);
    this.epoch = state.epoch;
    if (this.fixedSet) {
      // Replay the shuffles to rebuild the current epoch's order from the saved generator state's past.
      const replay = createRandom(this.seed, 'train-stream');
      const saved = this.random;
      this.random = replay;
      this.shuffle();
      for (let e = 0; e < state.epoch; e++) this.shuffle();
      this.random = saved;
    }
    this.cursor = state.cursor;
  }
}
