import type { Problem } from '../data/problem.ts';
import { columns } from '../data/runningSum.ts';
import { sampleOperand } from '../data/sampling.ts';
import { createRandom } from '../random.ts';
import { captureLayouts } from './layout.ts';
import { logisticAccuracy, ridgeFit } from './linearFit.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { drawDistinct, operandPairs } from './problemSets.ts';

/**
 * Linear probes in the manner of Bai et al. 2025 and Qiu et al. 2024: does the residual stream hold a
 * quantity of the long-hand algorithm as a linear function? Teacher-forced on held-out problems of the longest
 * training length, the activation read for column k is the one at the token before answer digit k (the position
 * that writes c_k). Ridge regression for the running sum ĉ_k and (multiplication) the carry in, logistic regression
 * for the answer digit and (addition) the 0/1 carry in; fitted on 80 % of the problems, scored on the other 20 %:
 * R² for numbers, accuracy for classes.
 */

const TRAIN_SHARE = 0.8;

export interface LinearProbeScore {
  quantity: 'running_sum' | 'carry_in' | 'digit';
  fit: 'ridge' | 'logistic';
  metric: 'r2' | 'accuracy';
  /** Activation name: `embed`, `blocks.i.resid_post` (the residual stream after block i). */
  activation: string;
  /** Significance of the answer column. */
  k: number;
  /** null where the quantity is constant on the scored problems (R² undefined). */
  score: number | null;
  /** Ridge fits: root mean squared error of the held-out predictions, in the quantity's units. */
  rmse?: number;
}

export interface LinearResult {
  probe: 'linear';
  description: string;
  convention: string;
  digits: number;
  trainProblems: number;
  testProblems: number;
  scores: LinearProbeScore[];
}

/** Held-out problems, both operands of the longest training length, drawn from the probe seed. */
function probeProblems(context: ProbeContext): Problem[] {
  const { op, trainDigits } = context.experiment.task;
  const random = createRandom(context.seed, 'linear-probe');
  const draw = (): Problem => ({ op, a: sampleOperand(random, trainDigits[1]), b: sampleOperand(random, trainDigits[1]) });
  return drawDistinct(Math.max(context.samples, 50) * 5, operandPairs(trainDigits[1], trainDigits[1]), draw);
}

export const linearProbe: Probe<LinearResult> = {
  name: 'linear',
  description: 'linear probes (ridge / logistic) of running sum, carry in and answer digit from the residual stream, per layer and column',
  activations: (layers) => ['embed', ...Array.from({ length: layers }, (_, i) => `blocks.${i}.resid_post`)],
  async run(context, { capture }) {
    if (!capture) throw new Error('the linear probe needs a model to capture activations from');
    const { experiment } = context;
    const names = linearProbe.activations!(experiment.model.layers);
    const problems = probeProblems(context);
    const { layouts, captured } = await captureLayouts(experiment, capture, problems, names);
    const split = Math.round(problems.length * TRAIN_SHARE);
    const columnCount = Math.min(...layouts.map((l) => l.answerTokens.length));
    const isAdd = experiment.task.op === 'add';
    const scores: LinearProbeScore[] = [];
    for (const activation of names) {
      for (let k = 0; k < columnCount; k++) {
        const x = layouts.map((layout, i) => {
          const { shape, values } = captured[i].get(activation)!;
          const width = shape[shape.length - 1];
          const at = layout.answerTokens[k] - 1;
          return values.slice(at * width, (at + 1) * width);
        });
        const byProblem = problems.map((problem) => columns(problem, columnCount)[k]);
        const part = (y: number[]) => ({
          train: { x: x.slice(0, split), y: y.slice(0, split) },
          test: { x: x.slice(split), y: y.slice(split) },
        });
        const ridge = (quantity: LinearProbeScore['quantity'], y: number[]) => {
          const { train, test } = part(y);
          const { r2, rmse } = ridgeFit(train, test);
          scores.push({ quantity, fit: 'ridge', metric: 'r2', activation, k, score: r2, rmse });
        };
        const logistic = (quantity: LinearProbeScore['quantity'], y: number[], classes: number) => {
          const { train, test } = part(y);
          scores.push({ quantity, fit: 'logistic', metric: 'accuracy', activation, k, score: logisticAccuracy(train, test, classes) });
        };
        ridge(
          'running_sum',
          byProblem.map((c) => c.runningSum),
        );
        const carries = byProblem.map((c) => c.carryIn);
        if (isAdd) logistic('carry_in', carries, 2);
        else ridge('carry_in', carries);
        logistic(
          'digit',
          byProblem.map((c) => c.digit),
          10,
        );
      }
    }
    return {
      probe: 'linear',
      description: linearProbe.description,
      convention:
        'teacher-forced <bos> prompt target; column k is read at the token before answer digit k; ridge R² and logistic accuracy on the held-out 20 % of the probe problems',
      digits: experiment.task.trainDigits[1],
      trainProblems: split,
      testProblems: problems.length - split,
      scores,
    };
  },
  table(result) {
    const lines = [
      `linear probes on ${result.digits}-digit operands (${result.trainProblems} fit, ${result.testProblems} scored); rows: activation, columns: k`,
    ];
    for (const quantity of ['running_sum', 'carry_in', 'digit'] as const) {
      const rows = result.scores.filter((s) => s.quantity === quantity);
      if (!rows.length) continue;
      lines.push(`${quantity} (${rows[0].metric})`);
      for (const activation of [...new Set(rows.map((s) => s.activation))]) {
        const cells = rows.filter((s) => s.activation === activation).map((s) => (s.score === null ? '-' : s.score.toFixed(2)).padStart(6));
        lines.push(`  ${activation.padEnd(20)}${cells.join('')}`);
      }
    }
    // R² near 1 can still leave ĉ_k several units off, too far to read its last digit: the error, in units.
    const running = result.scores.filter((s) => s.quantity === 'running_sum' && s.rmse !== undefined);
    if (running.length) {
      lines.push('running_sum (root mean squared error, in units of the sum)');
      for (const activation of [...new Set(running.map((s) => s.activation))]) {
        const cells = running.filter((s) => s.activation === activation).map((s) => s.rmse!.toFixed(2).padStart(6));
        lines.push(`  ${activation.padEnd(20)}${cells.join('')}`);
      }
    }
    return lines.join('\n');
  },
};
