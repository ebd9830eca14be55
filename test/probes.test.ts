import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { tokenizeExample } from '../src/data/batches.ts';
import { FORMAT_NAMES, getFormat } from '../src/data/formats/index.ts';
import { answerOf, type Op, type Problem } from '../src/data/problem.ts';
import { EOS_ID } from '../src/data/tokenizer.ts';
import { prepareExperiment, type Experiment } from '../src/config/experiment.ts';
import { ask, isRejected, type Answered } from '../src/cli/ask.ts';
import { printAnswers } from '../src/cli/predict.ts';
import { modelDecoder, type Decoder } from '../src/inference/decode.ts';
import type { Prediction } from '../src/inference/prediction.ts';
import { Gpt } from '../src/models/gpt.ts';
import { carryProblems, type CarriesResult } from '../src/probes/carries.ts';
import type { DigitsResult } from '../src/probes/digits.ts';
import type { ErrorsResult } from '../src/probes/errors.ts';
import { getProbe, PROBES } from '../src/probes/index.ts';
import { sequenceLayout } from '../src/probes/layout.ts';
import type { LengthResult } from '../src/probes/length.ts';
import type { Predictor } from '../src/probes/probe.ts';
import { probeContext, runProbes, type ProbeRun } from '../src/probes/run.ts';
import { errorKind } from '../src/probes/tally.ts';
import { columns } from '../src/data/runningSum.ts';
import { lengthGrid } from '../src/probes/problemSets.ts';
import { probeJson } from '../src/runs/probeFiles.ts';
import { selectBackend } from '../src/backends/select.ts';

function experimentFor(
  format: string,
  op: Op = 'add',
  extra: { pos?: string; maxLen?: number; trainDigits?: [number, number]; testDigits?: [number, number] } = {},
): Experiment {
  const config = parseConfig(
    {
      seed: 1,
      task: { op, train_digits: extra.trainDigits ?? [1, 3], test_digits: extra.testDigits ?? [1, 4], test_size: 50 },
      format: { name: format },
      model: { layers: 1, heads: 2, d_model: 16, max_len: extra.maxLen ?? 2000, pos: extra.pos ?? 'nope' },
      train: { steps: 10 },
    },
    'test',
  );
  return prepareExperiment(config);
}

// Written independently of src/: a carry enters position k exactly when the operands' last k digits overflow.
const carryInto = (p: Problem, k: number) => k > 0 && (p.a % 10n ** BigInt(k)) + (p.b % 10n ** BigInt(k)) >= 10n ** BigInt(k);
const carryCount = (p: Problem) => {
  let count = 0;
  for (let k = 1; k <= Math.max(p.a.toString().length, p.b.toString().length); k++) count += carryInto(p, k) ? 1 : 0;
  return count;
};

/** A "model" that is right except when a carry enters position K; then digit K comes out one higher (mod 10). */
const K = 1;
function carryStub(experiment: Experiment): { predictor: Predictor; seen: Problem[] } {
  const seen: Problem[] = [];
  const predictor: Predictor = async (problems) =>
    problems.map((problem): Prediction => {
      seen.push(problem);
      const expected = answerOf(problem);
      let answer = expected;
      if (carryInto(problem, K)) {
        const digit = (expected / 10n ** BigInt(K)) % 10n;
        answer = expected + (((digit + 1n) % 10n) - digit) * 10n ** BigInt(K);
      }
      const prompt = experiment.format.encode(problem, experiment.formatOptions).prompt;
      return {
        problem,
        prompt,
        output: `${[...answer.toString()].reverse().join('')}$\n`,
        answer,
        parseError: null,
        expected,
        correct: answer === expected,
      };
    });
  return { predictor, seen };
}

describe('probes attribute known errors to the right buckets (stub predictor: wrong iff a carry enters digit 1)', () => {
  const experiment = experimentFor('reversed');
  const context = probeContext(experiment, { samples: 60, maxDigits: 6 });
  const stub = carryStub(experiment);
  let runs: ProbeRun[] = [];
  beforeAll(async () => {
    runs = await runProbes([PROBES.length, PROBES.digits, PROBES.carries, PROBES.errors], { predictor: stub.predictor }, context);
  });
  const result = <T>(name: string) => runs.find((r) => r.name === name)!.result as T;

  it('length: each cell is right exactly on its problems without a carry into digit 1', () => {
    const length = result<LengthResult>('length');
    expect(length.maxDigits).toBe(6);
    expect(length.cells).toHaveLength(36);
    expect(length.diagonal.map((c) => c.digitsA)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(length.cells.find((c) => c.digitsA === 2 && c.digitsB === 3)!.inTrainingRange).toBe(true);
    expect(length.cells.find((c) => c.digitsA === 2 && c.digitsB === 4)!.inTrainingRange).toBe(false);
    // Diagonal cells in test_digits are the held-out problems; the others are sampled, possibly seen in training.
    expect(length.diagonal.map((c) => c.source)).toEqual(['held-out', 'held-out', 'held-out', 'held-out', 'sampled', 'sampled']);
    expect(length.cells.find((c) => c.digitsA === 1 && c.digitsB === 2)!.seenInTraining).toBe('possible');
    for (const cell of length.cells) {
      expect(cell.accuracy).toBeGreaterThan(0);
      if (cell.digitsA > 1 && cell.digitsB > 1) expect(cell.accuracy).toBeLessThan(1);
    }
  });

  it('digits: only digit 1 is ever wrong, and only when a carry enters it', () => {
    const digits = result<DigitsResult>('digits');
    expect(digits.answerOrder).toBe('lsb-first');
    const diagonal = result<LengthResult>('length').diagonal;
    for (const length of digits.lengths) {
      expect(length.unparsed).toBe(0);
      expect(length.positions.length).toBeGreaterThanOrEqual(length.digits);
      for (const position of length.positions) {
        if (position.position !== K) {
          expect(position.accuracy).toBe(1);
          continue;
        }
        expect(position.carryIn!.accuracy ?? 0).toBe(0);
        expect(position.noCarryIn!.accuracy ?? 1).toBe(1);
        // A position is compared wherever either answer has a digit: always, once operands are longer than K.
        if (length.digits > K) expect(position.count).toBe(length.problems);
        const cell = diagonal.find((c) => c.digitsA === length.digits)!;
        // Exactly the wrong problems of this length are wrong at digit K.
        expect(position.count - position.correct).toBe(cell.count - cell.correct);
      }
    }
  });

  it('carries: zero carries is always right; each bucket is wrong exactly on its problems with a carry into digit 1', () => {
    const carries = result<CarriesResult>('carries');
    const [byCount, byChain] = carries.bucketings;
    expect([byCount.name, byChain.name]).toEqual(['carries', 'longest-chain']);
    // Recompute each bucket's outcome from the problems themselves, counted by the test's own carry rule.
    const problems = carryProblems(context).flatMap((length) => length.problems);
    for (const length of byCount.lengths) {
      const ofLength = problems.filter((p) => p.a.toString().length === length.digits && p.b.toString().length === length.digits);
      for (const bucket of length.buckets) {
        const members = ofLength.filter((p) => carryCount(p) === bucket.value);
        expect(bucket.count).toBeGreaterThan(0);
        expect(bucket.count - bucket.correct).toBe(members.filter((p) => carryInto(p, K)).length);
        if (bucket.value === 0) expect(bucket.accuracy).toBe(1);
      }
      // Stratified: every carry count from 0 to n appears, 60 problems each where that many exist.
      expect(length.buckets.map((b) => b.value)).toEqual(Array.from({ length: length.digits + 1 }, (_, c) => c));
      if (length.digits >= 3) expect(length.buckets.every((b) => b.count === 60)).toBe(true);
    }
    for (const length of byChain.lengths) expect(length.buckets.find((b) => b.value === 0)?.accuracy ?? 1).toBe(1);
    expect(byCount.inRange.find((b) => b.value === 0)!.accuracy).toBe(1);
  });

  it('errors: every wrong answer is first wrong at digit 1', () => {
    const errors = result<ErrorsResult>('errors');
    expect(errors.wrong).toBeGreaterThan(0);
    expect(Object.keys(errors.byFirstWrongDigit)).toEqual([String(K)]);
    expect(errors.examples.length).toBe(40);
    expect(errors.examples.every((e) => e.firstWrongDigit === K && e.got !== e.expected)).toBe(true);
    // Trained cells come first.
    expect(errors.examples[0].inTrainingRange).toBe(true);
  });

  it('errors: counts wrong answers by kind, at trained lengths and beyond', async () => {
    // The stub's wrong digit 1 keeps the answer's length, except where it turns a leading 9 into 0 (95 -> 5).
    const expected = { inRange: { short: 0, long: 0, digits: 0, unparsed: 0 }, beyond: { short: 0, long: 0, digits: 0, unparsed: 0 } };
    for (const cell of lengthGrid(context)) {
      for (const problem of cell.problems) {
        if (!carryInto(problem, K)) continue;
        const sum = answerOf(problem).toString();
        const leadingNine = sum.length === K + 1 && sum[0] === '9';
        expected[cell.inTrainingRange ? 'inRange' : 'beyond'][leadingNine ? 'short' : 'digits']++;
      }
    }
    expect(expected.inRange.short + expected.beyond.short).toBeGreaterThan(0);
    expect(result<ErrorsResult>('errors').byKind).toEqual(expected);
  });

  it('errors: counts problems and wrong answers at trained lengths by their largest column running sum', () => {
    const expected = new Map<number, { from: number; problems: number; wrong: number }>();
    for (const cell of lengthGrid(context).filter((c) => c.inTrainingRange)) {
      for (const problem of cell.problems) {
        // A sum's columns: a_k + b_k plus the carry in, at most 19.
        const from = Math.floor(Math.max(...columns(problem).map((c) => c.runningSum)) / 5) * 5;
        const bin = expected.get(from) ?? { from, problems: 0, wrong: 0 };
        bin.problems++;
        if (carryInto(problem, K)) bin.wrong++;
        expected.set(from, bin);
      }
    }
    const bins = [...expected.values()].sort((x, y) => x.from - y.from);
    expect(bins.length).toBeGreaterThan(2);
    expect(result<ErrorsResult>('errors').byLargestColumnSum).toEqual({ width: 5, bins });
    expect(getProbe('errors').table(result('errors'))).toMatch(/largest column running sum, trained cells: 0-4: 0\/\d+, 5-9: \d+\/\d+/);
  });

  it('errors: a wrong answer is short, long, wrong in its digits, or unparsed', () => {
    expect(errorKind(990n, 99n)).toBe('short'); // stopped one digit early
    expect(errorKind(990n, 1990n)).toBe('long'); // one digit too many
    expect(errorKind(990n, 980n)).toBe('digits');
    expect(errorKind(990n, null)).toBe('unparsed');
  });

  it('digits and errors reuse the length grid: nothing decoded twice', () => {
    expect(runs.map((r) => r.decoded)).toEqual([runs[0].problems, 0, runs[2].decoded, 0]);
  });

  it('is deterministic for a seed and changes with it', async () => {
    const again = await runProbes(
      [PROBES.length],
      { predictor: carryStub(experiment).predictor },
      probeContext(experiment, { samples: 60, maxDigits: 6 }),
    );
    expect(probeJson(again[0].result)).toBe(probeJson(runs[0].result));
    const other = await runProbes(
      [PROBES.length],
      { predictor: carryStub(experiment).predictor },
      probeContext(experiment, { samples: 60, maxDigits: 6, seed: 9 }),
    );
    expect(probeJson(other[0].result)).not.toBe(probeJson(runs[0].result));
  });
});

describe('multiplication buckets by nonzero partial products', () => {
  it('builds multipliers with exactly k nonzero digits, k = 1..n', async () => {
    const experiment = experimentFor('reversed', 'mul');
    const seen: Problem[] = [];
    const predictor: Predictor = async (problems) =>
      problems.map((problem) => {
        seen.push(problem);
        return { problem, prompt: '', output: '', answer: answerOf(problem), parseError: null, expected: answerOf(problem), correct: true };
      });
    const [run] = await runProbes([PROBES.carries], { predictor }, probeContext(experiment, { samples: 20, maxDigits: 4 }));
    const result = run.result as CarriesResult;
    expect(result.bucketings.map((b) => b.name)).toEqual(['nonzero-partial-products']);
    const four = result.bucketings[0].lengths[3];
    expect(four.buckets.map((b) => [b.value, b.count])).toEqual([
      [1, 20],
      [2, 20],
      [3, 20],
      [4, 20],
    ]);
    for (const p of seen.filter((q) => q.b.toString().length === 4)) expect(p.b.toString()[0]).not.toBe('0');
  });
});

describe('the length grid is capped at what a learned position table can represent', () => {
  it('reports the cap and the reason', () => {
    // Reversed addition: n+n digits take 2n + 5 tokens plus an (n+1)-digit answer: 3 digits need 17 tokens.
    const experiment = experimentFor('reversed', 'add', { pos: 'ape', maxLen: 17, trainDigits: [1, 2], testDigits: [1, 3] });
    const context = probeContext(experiment, {});
    expect(context.requestedMaxDigits).toBe(4);
    expect(context.maxDigits).toBe(3);
    expect(context.maxDigitsLimit).toMatch(/max_len 17/);
  });

  it("index hints exist only up to the run's longest operand", () => {
    const context = probeContext(experimentFor('index-hints'), { maxDigits: 9 });
    expect(context.maxDigits).toBe(4);
    expect(context.maxDigitsLimit).toMatch(/index-hints/);
  });
});

const PROBLEMS: Problem[] = [
  { op: 'add', a: 128n, b: 367n },
  { op: 'add', a: 999n, b: 1n },
  { op: 'add', a: 5n, b: 0n },
  { op: 'add', a: 9999n, b: 9999n },
  { op: 'add', a: 40n, b: 7061n },
];

describe('token layout finds operand and answer digits in every format', () => {
  for (const name of FORMAT_NAMES) {
    // Addition where the format writes it; a multiplication-only format (cot-multiplication) multiplies.
    const op = getFormat(name).ops.includes('add') ? 'add' : getFormat(name).ops[0];
    it(name, () => {
      const experiment = experimentFor(name, op);
      for (const problem of PROBLEMS.map((p) => ({ ...p, op }))) {
        const layout = sequenceLayout(experiment, problem);
        const expected = answerOf(problem).toString();
        expect(layout.answerTokens.length).toBeGreaterThanOrEqual(expected.length);
        layout.answerTokens.forEach((index, k) => {
          expect(layout.roles[index]).toBe(`answer${k}`);
          expect(layout.tokens[index]).toBe(expected[expected.length - 1 - k] ?? '0');
          expect(index).toBeGreaterThanOrEqual(layout.promptLength);
        });
        for (const [operand, value] of [
          ['a', problem.a],
          ['b', problem.b],
        ] as const) {
          const text = value.toString();
          for (let k = 0; k < text.length; k++) {
            const index = layout.roles.indexOf(`${operand}${k}`);
            expect(index).toBeGreaterThan(0);
            expect(index).toBeLessThan(layout.promptLength);
            expect(layout.tokens[index]).toBe(text[text.length - 1 - k]);
          }
        }
      }
    });
  }
});

/** A decoder that writes the true target for every prompt it is asked about, cut at the budget it is given. */
function truthDecoder(experiment: Experiment, problems: Problem[]): Decoder {
  const targets = new Map<string, number[]>();
  for (const problem of problems) {
    const { ids, promptLength } = tokenizeExample(experiment.format.encode(problem, experiment.formatOptions), experiment.tokenizer);
    targets.set(ids.slice(0, promptLength).join(','), ids.slice(promptLength));
  }
  return async (prompts, maxNew) =>
    prompts.map((prompt, i) => {
      const target = targets.get(prompt.join(','))!;
      const end = target.indexOf(EOS_ID);
      return target.slice(0, Math.min(end, maxNew[i]));
    });
}

describe('predict round-trips every format', () => {
  for (const name of FORMAT_NAMES) {
    for (const op of getFormat(name).ops) {
      it(`${name} (${op})`, async () => {
        const experiment = experimentFor(name, op);
        const problems = PROBLEMS.map((p) => ({ ...p, op }));
        const lines = problems.map((p) => `${p.a}${op === 'add' ? '+' : '*'}${p.b}`);
        const results = await ask(truthDecoder(experiment, problems), experiment, lines);
        expect(results.map((r) => (r as Answered).answer)).toEqual(problems.map((p) => answerOf(p).toString()));
        expect(results.every((r) => !isRejected(r) && r.ok)).toBe(true);
        const out: string[] = [];
        const bad = printAnswers(results, false, { write: (s: string) => out.push(s) } as never, { write: () => true } as never);
        expect(bad).toBe(0);
        expect(out.join('')).toBe(problems.map((p) => `${answerOf(p)}\n`).join(''));
      });
    }
  }

  it('bad lines get their own error and do not stop the rest', async () => {
    const experiment = experimentFor('reversed');
    const problems = [PROBLEMS[0], PROBLEMS[1]];
    const results = await ask(truthDecoder(experiment, problems), experiment, ['128+367', '', 'twelve', '12*34', ' 999 + 1 ']);
    expect(results.map((r) => r.line)).toEqual([1, 3, 4, 5]);
    expect(results.map((r) => (isRejected(r) ? r.error : r.answer))).toEqual([
      '495',
      'expected a problem like 128+367 or 12*34',
      'this run was trained on add, not mul',
      '1000',
    ]);
    const out: string[] = [];
    const err: string[] = [];
    const bad = printAnswers(results, true, { write: (s: string) => out.push(s) } as never, { write: (s: string) => err.push(s) } as never);
    expect(bad).toBe(2);
    const objects = out.map((line) => JSON.parse(line));
    expect(objects[0]).toMatchObject({ prompt: '$128+367=', output: '594$\n', answer: '495', expected: '495', ok: true });
    expect(objects[1]).toMatchObject({ line: 3, input: 'twelve', error: expect.stringMatching(/expected a problem/) });
  });

  it('rejects operands the format cannot write and prompts beyond a learned position table', async () => {
    const hints = experimentFor('index-hints');
    const [tooLong] = await ask(truthDecoder(hints, []), hints, ['12345+1']);
    expect(isRejected(tooLong) && tooLong.error).toMatch(/index-hints/);
    const ape = experimentFor('reversed', 'add', { pos: 'ape', maxLen: 17, trainDigits: [1, 2], testDigits: [1, 3] });
    const [beyond] = await ask(truthDecoder(ape, []), ape, ['123456789+123456789']);
    expect(isRejected(beyond) && beyond.error).toMatch(/max_len 17/);
  });

  it('a real model decodes within a learned position table that the prompt nearly fills', async () => {
    await selectBackend('cpu');
    const experiment = experimentFor('reversed', 'add', { pos: 'ape', maxLen: 17, trainDigits: [1, 2], testDigits: [1, 3] });
    const model = new Gpt(experiment.model, 0);
    // `<bos>$1234567+123456=` is 17 tokens: room for exactly one generated token. `<bos>$12+34=` is 8 tokens;
    // its budget is the target of 99+99 (`891$\n<eos>`, 6 tokens) plus one.
    const lines = ['1234567+123456', '12+34'];
    let budgets: number[] = [];
    await ask(async (prompts, maxNew) => ((budgets = maxNew), prompts.map(() => [])), experiment, lines);
    expect(budgets).toEqual([1, 7]);
    const real = await ask(modelDecoder(model), experiment, lines);
    expect(real.every((r) => !isRejected(r))).toBe(true);
    model.dispose();
  });
});
