import { carryProfile } from '../data/carries.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../data/dataset.ts';
import { problemKey, type Problem } from '../data/problem.ts';
import { sampleOperand } from '../data/sampling.ts';
import type { Prediction } from '../inference/prediction.ts';
import { createRandom, type Random } from '../random.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { isTrainedCell, probedLengths, shuffled } from './problemSets.ts';
import { percent, tallyOf, type Tally } from './tally.ts';

/**
 * Addition: accuracy by the number of carrying columns and by the longest run of consecutive carries.
 * Multiplication: by the number of nonzero partial products, i.e. nonzero digits of b. Schoolbook
 * multiplication sums one shifted copy of a per nonzero digit of b, so that count is how much adding
 * (and carrying) the model must do; Qiu'24 trained with 45 % single-nonzero-digit multipliers for the same
 * reason. Carry counts themselves are uninformative for products: nearly every column carries.
 *
 * Uniform problems almost never have long carry chains (all 10 columns carry about 0.2 % of the time), so
 * problems are drawn stratified: for each operand length n, `samples` problems per bucket value. Addition
 * fills carry-count buckets by rejection from uniform problems (exactly uniform within a bucket, capped at
 * 1000 x samples draws per length, so a rare bucket can come out short; counts are reported); multiplication
 * builds multipliers with exactly k nonzero digits directly (uniform within the bucket).
 */

export interface Bucket extends Tally {
  value: number;
}

export interface BucketsAtLength {
  digits: number;
  inTrainingRange: boolean;
  seenInTraining: 'no' | 'possible';
  buckets: Bucket[];
}

export interface Bucketing {
  name: string;
  description: string;
  lengths: BucketsAtLength[];
  /** Pooled over the trained lengths, and over the longer ones. */
  inRange: Bucket[];
  beyond: Bucket[];
}

export interface CarriesResult {
  probe: 'carries';
  description: string;
  op: string;
  sampling: string;
  samples: number;
  bucketings: Bucketing[];
}

interface Bucketer {
  name: string;
  description: string;
  value(problem: Problem): number;
}

const ADD_BUCKETERS: Bucketer[] = [
  { name: 'carries', description: 'number of columns that produce a carry', value: (p) => carryProfile(p.a, p.b).count },
  { name: 'longest-chain', description: 'longest run of consecutive carrying columns', value: (p) => carryProfile(p.a, p.b).longestChain },
];

const nonzeroDigits = (n: bigint) => [...n.toString()].filter((d) => d !== '0').length;

const MUL_BUCKETERS: Bucketer[] = [
  {
    name: 'nonzero-partial-products',
    description: 'nonzero digits of b: the shifted copies of a that schoolbook multiplication adds up',
    value: (p) => (p.a === 0n ? 0 : nonzeroDigits(p.b)),
  },
];

const bucketersFor = (op: string) => (op === 'add' ? ADD_BUCKETERS : MUL_BUCKETERS);

/** An n-digit multiplier with exactly `nonzero` nonzero digits; the leading digit is one of them (n > 1). */
function multiplierWith(random: Random, digits: number, nonzero: number): bigint {
  if (digits === 1) return nonzero === 0 ? 0n : BigInt(random.int(1, 9));
  const lower = shuffled(
    Array.from({ length: digits - 1 }, (_, i) => i),
    random,
  ).slice(0, nonzero - 1);
  let value = BigInt(random.int(1, 9)) * 10n ** BigInt(digits - 1);
  for (const position of lower) value += BigInt(random.int(1, 9)) * 10n ** BigInt(position);
  return value;
}

interface StratifiedLength {
  digits: number;
  inTrainingRange: boolean;
  seenInTraining: 'no' | 'possible';
  problems: Problem[];
}

const sets = new WeakMap<ProbeContext, StratifiedLength[]>();

export function carryProblems(context: ProbeContext): StratifiedLength[] {
  const cached = sets.get(context);
  if (cached) return cached;
  const { experiment, seed, samples } = context;
  const { task, config } = experiment;
  const fixedTraining = new TrainStream(task, config.seed, heldOutKeys(buildTestSets(task, config.seed))).problems;
  const trainingKeys = fixedTraining ? new Set(fixedTraining.map(problemKey)) : null;
  const lengths: StratifiedLength[] = [];
  for (const digits of probedLengths(context)) {
    const random = createRandom(seed, `probe:carries:${digits}`);
    const inTrainingRange = isTrainedCell(task, digits, digits);
    const excluded = inTrainingRange ? trainingKeys : null;
    const seen = new Set<string>();
    const buckets = new Map<number, Problem[]>();
    const accept = (problem: Problem, bucket: number) => {
      const key = problemKey(problem);
      if (seen.has(key) || excluded?.has(key)) return;
      seen.add(key);
      if (!buckets.has(bucket)) buckets.set(bucket, []);
      const members = buckets.get(bucket)!;
      if (members.length < samples) members.push(problem);
    };
    if (task.op === 'add') {
      const bucketCount = digits + 1;
      for (let draws = 0; draws < 1000 * samples; draws++) {
        const problem: Problem = { op: 'add', a: sampleOperand(random, digits), b: sampleOperand(random, digits) };
        accept(problem, carryProfile(problem.a, problem.b).count);
        if (buckets.size === bucketCount && [...buckets.values()].every((m) => m.length >= samples)) break;
      }
    } else {
      for (let nonzero = digits === 1 ? 0 : 1; nonzero <= digits; nonzero++) {
        for (let draws = 0; draws < 100 * samples && (buckets.get(nonzero)?.length ?? 0) < samples; draws++) {
          accept({ op: task.op, a: sampleOperand(random, digits), b: multiplierWith(random, digits, nonzero) }, nonzero);
        }
      }
    }
    const problems = [...buckets.keys()].sort((x, y) => x - y).flatMap((bucket) => buckets.get(bucket)!);
    lengths.push({ digits, inTrainingRange, seenInTraining: inTrainingRange && !trainingKeys ? 'possible' : 'no', problems });
  }
  sets.set(context, lengths);
  return lengths;
}

function bucketize(predictions: Prediction[], bucketer: Bucketer): Bucket[] {
  const groups = new Map<number, boolean[]>();
  for (const p of predictions) {
    const value = bucketer.value(p.problem);
    if (!groups.has(value)) groups.set(value, []);
    groups.get(value)!.push(p.correct);
  }
  return [...groups.keys()].sort((x, y) => x - y).map((value) => ({ value, ...tallyOf(groups.get(value)!) }));
}

export const carriesProbe: Probe<CarriesResult> = {
  name: 'carries',
  description: 'exact match by number of carries and longest carry chain (multiplication: nonzero partial products)',
  problems: (context) => carryProblems(context).flatMap((length) => length.problems),
  run(context, { predictions }) {
    const lengths = carryProblems(context);
    let offset = 0;
    const byLength = lengths.map((length) => predictions.slice(offset, (offset += length.problems.length)));
    const pooled = (inRange: boolean) => byLength.filter((_, i) => lengths[i].inTrainingRange === inRange).flat();
    const op = context.experiment.task.op;
    return {
      probe: 'carries',
      description: carriesProbe.description,
      op,
      sampling:
        op === 'add'
          ? 'per length, up to `samples` problems per carry count, by rejection from uniform operands (1000 x samples draws at most)'
          : 'per length, `samples` problems per number of nonzero multiplier digits, built directly',
      samples: context.samples,
      bucketings: bucketersFor(op).map((bucketer) => ({
        name: bucketer.name,
        description: bucketer.description,
        lengths: lengths.map((length, i) => ({
          digits: length.digits,
          inTrainingRange: length.inTrainingRange,
          seenInTraining: length.seenInTraining,
          buckets: bucketize(byLength[i], bucketer),
        })),
        inRange: bucketize(pooled(true), bucketer),
        beyond: bucketize(pooled(false), bucketer),
      })),
    };
  },
  table(result) {
    const lines = [`carries: exact match % by bucket (${result.sampling})`];
    for (const bucketing of result.bucketings) {
      const width = Math.max(0, ...bucketing.lengths.flatMap((l) => l.buckets.map((b) => b.value))) + 1;
      lines.push(`${bucketing.name} (${bucketing.description}):`);
      lines.push('   n ' + Array.from({ length: width }, (_, v) => String(v).padStart(6)).join(''));
      const row = (label: string, buckets: Bucket[]) =>
        `${label} ` + Array.from({ length: width }, (_, v) => percent(buckets.find((b) => b.value === v)?.accuracy ?? null, 6)).join('');
      for (const length of bucketing.lengths)
        lines.push(row(`${String(length.digits).padStart(3)}${length.inTrainingRange ? '*' : ' '}`, length.buckets));
      lines.push(row('  in', bucketing.inRange), row('  >>', bucketing.beyond));
    }
    lines.push('* = trained length; in = pooled over trained lengths, >> = pooled beyond them');
    return lines.join('\n');
  },
};
