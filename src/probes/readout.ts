import type { Problem } from '../data/problem.ts';
import { columns } from '../data/runningSum.ts';
import { largestRunningSum, sampleOperand } from '../data/sampling.ts';
import { createRandom } from '../random.ts';
import { activationLabel } from './activationNames.ts';
import { COLUMN_SUM_BIN } from './errors.ts';
import { captureLayouts } from './layout.ts';
import { ridgeModel } from './linearFit.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { drawDistinct, operandPairs } from './problemSets.ts';

/**
 * Does the model hold the running sum it fails to write? Teacher-forced on held-out problems of the longest
 * training length, at the token before answer digit k (the position that writes c_k): one ridge regression per
 * activation, over all columns as Bai et al.'s head is, reads ĉ_k from the residual stream, and the model's own
 * most likely next token is its digit k. Scored on the held-out fifth, by the size of ĉ_k: how often the linear
 * read rounds to ĉ_k, and how often the digit written there is right. A sum read right where the digit is wrong
 * is a failure of the readout (the last digit of ĉ_k and the carry out of it), not of the sum.
 */

const TRAIN_SHARE = 0.8;
/** Uniform draws of which the tail half of the problems keeps the one with the largest running sum. */
const TAIL_DRAWS = 10;

export interface ReadoutBin {
  /** ĉ_k from `from` to `to` inclusive. */
  from: number;
  to: number;
  /** Scored answer positions (problem, k) whose ĉ_k is in the bin. */
  positions: number;
  /** Per activation (ReadoutResult.activations), the share of positions whose linear read rounds to ĉ_k. */
  sumRead: number[];
  /** Per activation, the mean absolute error of the linear read, in units of the sum. */
  meanError: number[];
  /** The share of positions where the model's own next token is the right digit. */
  digitWritten: number;
  /** The share of positions whose digit is wrong although the last activation's read rounds to ĉ_k. */
  wrongDigitSumRead: number;
}

export interface ReadoutResult {
  probe: 'readout';
  description: string;
  convention: string;
  digits: number;
  trainProblems: number;
  testProblems: number;
  /** `embed`, then `blocks.i.resid_post` for every block. */
  activations: string[];
  binWidth: number;
  bins: ReadoutBin[];
}

/**
 * Held-out problems of the longest training length from the probe seed, ten per `samples` (1,000 by default):
 * half uniform, half the largest (by running sum) of ten uniform draws, so that the large sums where models fail
 * are not a handful.
 */
function readoutProblems(context: ProbeContext): Problem[] {
  const { op, trainDigits } = context.experiment.task;
  const random = createRandom(context.seed, 'readout-probe');
  const uniform = (): Problem => ({ op, a: sampleOperand(random, trainDigits[1]), b: sampleOperand(random, trainDigits[1]) });
  let draws = 0;
  const uniformOrTail = (): Problem => {
    let problem = uniform();
    if (draws++ % 2 === 0) return problem;
    for (let t = 1; t < TAIL_DRAWS; t++) {
      const other = uniform();
      if (largestRunningSum(other) > largestRunningSum(problem)) problem = other;
    }
    return problem;
  };
  return drawDistinct(Math.max(context.samples, 2) * 10, operandPairs(trainDigits[1], trainDigits[1]), uniformOrTail);
}

const argmax = (values: Float32Array, from: number, width: number): number => {
  let best = 0;
  for (let j = 1; j < width; j++) if (values[from + j] > values[from + best]) best = j;
  return best;
};

export const readoutProbe: Probe<ReadoutResult> = {
  name: 'readout',
  description:
    'the running sum ĉ_k read linearly from the residual stream against the digit the model writes there, by the size of ĉ_k (teacher-forced)',
  activations: (layers) => ['embed', ...Array.from({ length: layers }, (_, i) => `blocks.${i}.resid_post`), 'logits'],
  async run(context, { capture }) {
    if (!capture) throw new Error('the readout probe needs a model to capture activations from');
    const { experiment } = context;
    const names = readoutProbe.activations!(experiment.model.layers);
    const activations = names.slice(0, -1);
    const problems = readoutProblems(context);
    const { layouts, captured } = await captureLayouts(experiment, capture, problems, names);
    const split = Math.round(problems.length * TRAIN_SHARE);
    // One row per (problem, k): the activation at the token before answer digit k, ĉ_k, and the model's digit.
    const rows = problems.flatMap((problem, i) => {
      const layout = layouts[i];
      const byK = columns(problem, layout.answerTokens.length);
      const logits = captured[i].get('logits')!;
      const vocab = logits.shape[logits.shape.length - 1];
      return layout.answerTokens.map((token, k) => ({
        problem: i,
        at: token - 1,
        sum: byK[k].runningSum,
        digitRight: argmax(logits.values, (token - 1) * vocab, vocab) === layout.ids[token],
      }));
    });
    const featureRow = (activation: string, row: (typeof rows)[number]) => {
      const { shape, values } = captured[row.problem].get(activation)!;
      const width = shape[shape.length - 1];
      return values.slice(row.at * width, (row.at + 1) * width);
    };
    const train = rows.filter((r) => r.problem < split);
    const test = rows.filter((r) => r.problem >= split);
    // One fit per activation over every column, as Bai et al.'s head reads ĉ_k: eight times the rows of a fit per
    // column, which at 800 problems and d_model 64 reads the last block's ĉ_k right a fifth less often.
    const reads = activations.map((activation) => {
      const predict = ridgeModel({ x: train.map((r) => featureRow(activation, r)), y: train.map((r) => r.sum) });
      return test.map((r) => predict(featureRow(activation, r)));
    });
    const binWidth = COLUMN_SUM_BIN[experiment.task.op];
    const bins: ReadoutBin[] = [];
    const top = Math.max(...test.map((r) => r.sum));
    for (let from = 0; from <= top; from += binWidth) {
      const members = test.flatMap((r, j) => (r.sum >= from && r.sum < from + binWidth ? [j] : []));
      if (!members.length) continue;
      const share = (hit: (j: number) => boolean) => members.filter(hit).length / members.length;
      const roundsRight = (a: number, j: number) => Math.round(reads[a][j]) === test[j].sum;
      const last = activations.length - 1;
      bins.push({
        from,
        to: from + binWidth - 1,
        positions: members.length,
        sumRead: activations.map((_, a) => share((j) => roundsRight(a, j))),
        meanError: activations.map((_, a) => members.reduce((sum, j) => sum + Math.abs(reads[a][j] - test[j].sum), 0) / members.length),
        digitWritten: share((j) => test[j].digitRight),
        wrongDigitSumRead: share((j) => !test[j].digitRight && roundsRight(last, j)),
      });
    }
    return {
      probe: 'readout',
      description: readoutProbe.description,
      convention:
        'teacher-forced <bos> prompt target; column k is read at the token before answer digit k; one ridge fit per activation over all columns on 80 % of the problems, scored on the other 20 %; half the problems uniform, half the largest running sum of ten uniform draws',
      digits: experiment.task.trainDigits[1],
      trainProblems: split,
      testProblems: problems.length - split,
      activations,
      binWidth,
      bins,
    };
  },
  table(result) {
    const labels = result.activations.map(activationLabel);
    const cells = (values: string[]) => values.map((v, i) => v.padStart(Math.max(labels[i].length, 5))).join('  ');
    const lines = [
      `readout on ${result.digits}-digit operands (${result.trainProblems} fit, ${result.testProblems} scored), teacher-forced, by ĉ_k, the running sum of the column:`,
      'the share of answer positions whose linear read of ĉ_k rounds right, by activation; the share whose digit the model writes right;',
      'and the share with the digit wrong although the read of the last activation is right',
      `${'ĉ_k'.padEnd(10)}${'positions'.padStart(9)}  ${cells(labels)}  ${'digit written'.padStart(13)}  ${'wrong, sum read'.padStart(15)}`,
    ];
    const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
    for (const bin of result.bins) {
      lines.push(
        `${`${bin.from}-${bin.to}`.padEnd(10)}${String(bin.positions).padStart(9)}  ${cells(bin.sumRead.map(pct))}  ${pct(bin.digitWritten).padStart(13)}  ${pct(bin.wrongDigitSumRead).padStart(15)}`,
      );
    }
    return lines.join('\n');
  },
};
