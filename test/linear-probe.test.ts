import { describe, expect, it } from 'vitest';
import { prepareExperiment } from '../src/config/experiment.ts';
import { parseConfig } from '../src/config/load.ts';
import { linearProbe } from '../src/probes/linear.ts';
import { readoutProbe } from '../src/probes/readout.ts';
import { logisticAccuracy, ridgeFit } from '../src/probes/linearFit.ts';
import type { ActivationCapture } from '../src/probes/probe.ts';
import { probeContext } from '../src/probes/run.ts';
import { createRandom } from '../src/random.ts';

/** n rows of d Gaussian features. */
function features(n: number, d: number, seed: number): Float32Array[] {
  const random = createRandom(seed, 'features');
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, () => random.normal()));
}

const split = <T>(items: T[]) => [items.slice(0, 300), items.slice(300)];

/** 2x2 multiplication, product reversed, on a one-block model of width 4 (the stand-in captures replace it). */
const twoByTwo = () =>
  prepareExperiment(
    parseConfig(
      {
        task: { op: 'mul', train_digits: [2, 2], test_digits: [2, 2], test_size: 4 },
        format: { name: 'reversed' },
        model: { layers: 1, heads: 1, d_model: 4, max_len: 16 },
        train: { steps: 1 },
      },
      'inline',
    ),
  );

describe('linear probe fits', () => {
  const x = features(400, 16, 1);
  const noise = createRandom(2, 'noise');
  const y = x.map((row) => 3 * row[0] - 2 * row[5] + 0.5 * row[9] + 7 + 0.01 * noise.normal());
  const [trainX, testX] = split(x);
  const [trainY, testY] = split(y);

  it('ridge: R² ≈ 1 for a linear target plus small noise, ≈ 0 for shuffled targets', () => {
    expect(ridgeFit({ x: trainX, y: trainY }, { x: testX, y: testY }).r2).toBeGreaterThan(0.99);
    const shuffle = createRandom(3, 'shuffle');
    const shuffled = [...trainY].sort(() => shuffle.next() - 0.5);
    expect(Math.abs(ridgeFit({ x: trainX, y: shuffled }, { x: testX, y: testY }).r2!)).toBeLessThan(0.15);
  });

  it("ridge: the error in the target's units, which a high R² can hide (a sum of spread 40 known to ±3)", () => {
    expect(ridgeFit({ x: trainX, y: trainY }, { x: testX, y: testY }).rmse).toBeLessThan(0.05);
    const wide = x.map((row) => 40 * row[0] + 80);
    const blurred = (values: number[]) => values.map((v) => v + 3 * noise.normal());
    const [trainW, testW] = split(wide);
    const fit = ridgeFit({ x: trainX, y: blurred(trainW) }, { x: testX, y: blurred(testW) });
    expect(fit.r2).toBeGreaterThan(0.99);
    expect(fit.rmse).toBeGreaterThan(2.5);
    expect(fit.rmse).toBeLessThan(3.5);
  });

  it('logistic: a class that is the argmax of linear scores is decoded; shuffled classes are at chance', () => {
    const classes = x.map((row) => [row[0], row[1], row[2]].indexOf(Math.max(row[0], row[1], row[2])));
    const [trainC, testC] = split(classes);
    expect(logisticAccuracy({ x: trainX, y: trainC }, { x: testX, y: testC }, 3)).toBeGreaterThan(0.9);
    const shuffle = createRandom(4, 'shuffle');
    const shuffled = [...trainC].sort(() => shuffle.next() - 0.5);
    expect(logisticAccuracy({ x: trainX, y: shuffled }, { x: testX, y: testC }, 3)).toBeLessThan(0.5);
  });
});

describe('the linear probe on captured activations', () => {
  it('reads each column at the token before its answer digit: an activation holding ĉ_k there gives R² = 1', async () => {
    const experiment = twoByTwo();
    const context = probeContext(experiment, { samples: 20 });
    // A stand-in capture: feature 0 of `blocks.0.resid_post` is the running sum the next answer digit needs, the
    // rest noise; `embed` is all noise. It reads the running sums from the roles, independently of the probe.
    const noise = createRandom(9, 'capture');
    const capture: ActivationCapture = async (sequences, names, roles) =>
      sequences.map((ids, i) => {
        const tokens = ids.map((id) => experiment.tokenizer.tokens[id]);
        const a = BigInt(tokens.slice(2, 4).join(''));
        const b = BigInt(tokens.slice(5, 7).join(''));
        const digits = [...String(a * b)].reverse().map(Number);
        const sums: number[] = [];
        let carry = 0;
        for (let k = 0; k < 4; k++) {
          let s = carry;
          for (let p = 0; p <= k; p++) if (p < 2 && k - p < 2) s += Number(String(a).at(-1 - p)) * Number(String(b).at(-1 - (k - p)));
          sums.push(s);
          carry = Math.floor(s / 10);
        }
        expect(sums.map((s) => s % 10).slice(0, digits.length)).toEqual(digits);
        return new Map(
          names.map((name) => {
            const values = Float32Array.from({ length: ids.length * 4 }, () => noise.normal());
            if (name === 'blocks.0.resid_post') {
              roles![i].forEach((role, t) => {
                if (role.kind === 'answer') values[(t - 1) * 4] = sums[role.significance!];
              });
            }
            return [name, { shape: [ids.length, 4], values }];
          }),
        );
      });
    const result = await linearProbe.run(context, { predictions: [], capture });
    const r2 = (activation: string, k: number) =>
      result.scores.find((s) => s.quantity === 'running_sum' && s.activation === activation && s.k === k)!.score;
    for (let k = 0; k < 3; k++) {
      expect(r2('blocks.0.resid_post', k)).toBeGreaterThan(0.99);
      expect(r2('embed', k)).toBeLessThan(0.2);
    }
    const rmse = (activation: string, k: number) =>
      result.scores.find((s) => s.quantity === 'running_sum' && s.activation === activation && s.k === k)!.rmse!;
    for (let k = 0; k < 3; k++) {
      expect(rmse('blocks.0.resid_post', k)).toBeLessThan(0.5);
      expect(rmse('embed', k)).toBeGreaterThan(1);
    }
    expect(linearProbe.table(result)).toContain('running_sum (r2)');
    expect(linearProbe.table(result)).toContain('running_sum (root mean squared error, in units of the sum)');
  });
});

describe('a constant target', () => {
  it('has no R² (null), rather than a perfect one', () => {
    const x = features(40, 4, 7);
    expect(ridgeFit({ x: x.slice(0, 30), y: Array(30).fill(0) }, { x: x.slice(30), y: Array(10).fill(0) }).r2).toBeNull();
  });
});

describe('the readout probe', () => {
  it('reads ĉ_k where the activation holds it, and tells a wrong digit with the sum held from a right one', async () => {
    const experiment = twoByTwo();
    const { tokens } = experiment.tokenizer;
    const context = probeContext(experiment, { samples: 40 });
    // A stand-in model: feature 0 of `blocks.0.resid_post` is ĉ_k where digit k is written, the rest noise, and
    // its next token is the right digit while ĉ_k < 60, another digit from 60 on. Sums from the roles, by hand.
    const noise = createRandom(9, 'capture');
    const capture: ActivationCapture = async (sequences, names, roles) =>
      sequences.map((ids, i) => {
        const operand = (kind: string) =>
          roles![i].reduce((n, role, t) => (role.kind === kind ? n + Number(tokens[ids[t]]) * 10 ** role.significance! : n), 0);
        const [a, b] = [operand('a'), operand('b')];
        const sums: number[] = [];
        let carry = 0;
        for (let k = 0; k < 4; k++) {
          let s = carry;
          for (let p = 0; p <= k; p++) if (p < 2 && k - p < 2) s += (Math.floor(a / 10 ** p) % 10) * (Math.floor(b / 10 ** (k - p)) % 10);
          sums.push(s);
          carry = Math.floor(s / 10);
        }
        const vocab = tokens.length;
        return new Map(
          names.map((name) => {
            const width = name === 'logits' ? vocab : 4;
            const values = Float32Array.from({ length: ids.length * width }, () => (name === 'logits' ? 0 : noise.normal()));
            roles![i].forEach((role, t) => {
              if (role.kind !== 'answer') return;
              const sum = sums[role.significance!];
              if (name === 'blocks.0.resid_post') values[(t - 1) * 4] = sum;
              const wrong = tokens.indexOf(String((sum + 1) % 10));
              if (name === 'logits') values[(t - 1) * vocab + (sum < 60 ? ids[t] : wrong)] = 1;
            });
            return [name, { shape: [ids.length, width], values }];
          }),
        );
      });
    const result = await readoutProbe.run(context, { predictions: [], capture });
    expect(result.activations).toEqual(['embed', 'blocks.0.resid_post']);
    expect(result.trainProblems + result.testProblems).toBe(400);
    const below = result.bins.filter((b) => b.to < 60);
    const above = result.bins.filter((b) => b.from >= 60);
    // Half the problems from the upper tail: about 85 scored positions at 60 or more, where uniform problems give 38.
    expect(above.reduce((n, b) => n + b.positions, 0)).toBeGreaterThan(60);
    for (const bin of result.bins) expect(bin.sumRead[1]).toBe(1);
    for (const bin of below) expect([bin.digitWritten, bin.wrongDigitSumRead]).toEqual([1, 0]);
    for (const bin of above) expect([bin.digitWritten, bin.wrongDigitSumRead]).toEqual([0, 1]);
    const positions = result.bins.reduce((n, b) => n + b.positions, 0);
    expect(result.bins.reduce((n, b) => n + b.sumRead[0] * b.positions, 0) / positions).toBeLessThan(0.2);
    expect(readoutProbe.table(result)).toContain('after block 1');
  });
});
