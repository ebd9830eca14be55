import { describe, expect, it } from 'vitest';
import { lengthList } from '../src/cli/probe.ts';
import { prepareExperiment, type Experiment } from '../src/config/experiment.ts';
import { parseConfig } from '../src/config/load.ts';
import { answerOf, type Problem } from '../src/data/problem.ts';
import { UserError } from '../src/errors.ts';
import { writeQuery } from '../src/inference/query.ts';
import { lengthProbe, type LengthResult } from '../src/probes/length.ts';
import type { Predictor } from '../src/probes/probe.ts';
import { lengthGrid } from '../src/probes/problemSets.ts';
import { probeContext, runProbes } from '../src/probes/run.ts';
import { lengthGridFigure } from '../src/report/figures.ts';

/** Reversed addition under position coupling: evaluation ids reach 2 + n for n-digit operands, so 64 rows hold 61 digits. */
function coupledExperiment(trainDigits: [number, number] = [1, 10], testDigits: [number, number] = [1, 12]): Experiment {
  const config = parseConfig(
    {
      seed: 0,
      task: { op: 'add', train_digits: trainDigits, test_digits: testDigits, test_size: 5 },
      format: { name: 'reversed' },
      model: { layers: 1, heads: 2, d_model: 16, max_len: 200, pos: 'coupled', max_position: 64 },
      train: { steps: 10 },
    },
    'test',
  );
  return prepareExperiment(config);
}

const digitsOf = (problem: Problem) => problem.a.toString().length;

/** Right up to 20 digits, wrong beyond: the probe must file each problem under its own length. */
const upTo20: Predictor = async (problems) =>
  problems.map((problem) => {
    const expected = answerOf(problem);
    const answer = digitsOf(problem) <= 20 ? expected : expected + 1n;
    return { problem, prompt: '', output: '', answer, parseError: null, expected, correct: answer === expected };
  });

describe('the length probe at listed far lengths', () => {
  it('measures only equal-length cells at the listed lengths, and prints and draws their diagonal', async () => {
    const context = probeContext(coupledExperiment(), { lengths: [40, 10, 20], samples: 3 });
    expect(context.lengths).toEqual([10, 20, 40]);
    expect(context.maxDigits).toBe(40);
    const cells = lengthGrid(context);
    expect(cells.map((c) => [c.digitsA, c.digitsB])).toEqual([
      [10, 10],
      [20, 20],
      [40, 40],
    ]);
    for (const cell of cells)
      for (const p of cell.problems) expect([digitsOf(p), p.b.toString().length]).toEqual([cell.digitsA, cell.digitsA]);
    const [run] = await runProbes([lengthProbe], { predictor: upTo20 }, context);
    const result = run.result as LengthResult;
    expect(run.decoded).toBe(9);
    expect(result.lengths).toEqual([10, 20, 40]);
    expect(result.diagonal.map((c) => [c.digitsA, c.accuracy, c.inTrainingRange])).toEqual([
      [10, 1, true],
      [20, 1, false],
      [40, 0, false],
    ]);
    expect(result.accuracy).toEqual([]);
    const table = lengthProbe.table(result).split('\n');
    expect(table).toContain('   n     10    20    40');
    expect(table).toContain('   %    100   100     0');
    expect(table.some((line) => line.startsWith(' a\\b'))).toBe(false);
    const figure = lengthGridFigure({ ...result, step: 20, seconds: 1, problems: 9, decoded: 9 });
    expect(figure.data[0]).toMatchObject({ type: 'scatter', x: [10, 20, 40], y: [100, 100, 0] });
  });

  it('a diagonal of many lengths wraps at 20 columns', async () => {
    const lengths = Array.from({ length: 25 }, (_, i) => i + 1);
    const context = probeContext(coupledExperiment(), { lengths, samples: 1 });
    const [run] = await runProbes([lengthProbe], { predictor: upTo20 }, context);
    const rows = lengthProbe
      .table(run.result as LengthResult)
      .split('\n')
      .filter((line) => line.startsWith('   n '));
    expect(rows).toHaveLength(2);
    expect(rows[1].trim().split(/\s+/)).toEqual(['n', '21', '22', '23', '24', '25']);
  });

  it('parses --lengths as a comma list or repeated words, and refuses anything else', () => {
    expect(lengthList(['10,20', '40'])).toEqual([10, 20, 40]);
    expect(lengthList(undefined)).toBeUndefined();
    expect(() => lengthList(['10,x'])).toThrow(UserError);
    expect(() => lengthList(['0'])).toThrow(/from 1 to 1000, got 0/);
    expect(() => lengthList([','])).toThrow(/operand lengths/);
  });
});

describe('a coupled table too small for the lengths asked', () => {
  it('is one error naming model.max_position and the longest length it can probe', () => {
    const experiment = coupledExperiment();
    for (const options of [{ lengths: [10, 62] }, { maxDigits: 70 }]) {
      let error: unknown;
      try {
        probeContext(experiment, options);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).details.field).toBe('model.max_position');
      expect((error as UserError).message).toMatch(/model\.max_position 64\) hold operands of at most 61 digits; (62|70) were asked for/);
    }
    expect(probeContext(experiment, { lengths: [61] }).lengths).toEqual([61]);
  });

  it('caps the default request (twice the training length) with the reason', () => {
    const context = probeContext(coupledExperiment([1, 40], [1, 40]), {});
    expect(context.requestedMaxDigits).toBe(80);
    expect(context.maxDigits).toBe(61);
    expect(context.maxDigitsLimit).toMatch(/model\.max_position 64\) hold operands of at most 61 digits/);
  });

  it('predict refuses a problem past the table, saying which operands fit', () => {
    const nines = (n: number) => 10n ** BigInt(n) - 1n;
    const experiment = coupledExperiment();
    expect(writeQuery(experiment, { op: 'add', a: nines(61), b: nines(61) }).ok).toBe(true);
    const refused = writeQuery(experiment, { op: 'add', a: nines(62), b: 1n });
    expect(refused).toEqual({
      ok: false,
      error: '"coupled" position id 64 is outside its table of model.max_position 64 rows; operands of up to 61 digits fit',
    });
  });
});
