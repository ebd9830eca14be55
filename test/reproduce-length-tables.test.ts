import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ASSUMED_GPU_FLOPS, estimateGpuTime } from '../src/experiments/reproduce/gpuTime.ts';
import { describePlan, planReproduction, unitsOf } from '../src/experiments/reproduce/plan.ts';
import { renderMarkdown, summarizeResults, type CellResult } from '../src/experiments/reproduce/table.ts';
import { REPRODUCTIONS } from '../src/experiments/reproductions/index.ts';
import { paperKey, type FinishedRun, type ProfileName } from '../src/experiments/reproductions/reproduction.ts';
import type { RunInfo } from '../src/runs/records.ts';

/** The length-generalization tables (Cho'24, McLeish'24) and Kazemnejad's T5 column: settings, numbers, checks, cost. */
const cho = REPRODUCTIONS['cho2024-coupling'];
const mcleish = REPRODUCTIONS['mcleish2024-abacus'];
const kazemnejad = REPRODUCTIONS['kazemnejad2023-pe'];

const unit = (name: string, profile: ProfileName, id: string) => {
  const found = unitsOf(REPRODUCTIONS[name], profile, 1, 'x').find((u) => u.id === id);
  if (!found) throw new Error(`no unit ${id}`);
  return found;
};

/** Cells of a one-row table with these per-seed values of each metric. */
function cells(values: Record<string, Record<string, number[]>>): CellResult[] {
  return Object.entries(values).map(([column, metrics]) => {
    const seeds = Object.values(metrics)[0].length;
    return {
      id: column,
      row: 'all',
      column,
      seeds: Array.from({ length: seeds }, (_, seed) => ({
        seed,
        runDir: '',
        status: 'finished' as const,
        values: Object.fromEntries(Object.entries(metrics).map(([metric, v]) => [metric, v[seed]])),
      })),
    };
  });
}

const verdicts = (name: string, values: Record<string, Record<string, number[]>>) =>
  summarizeResults(REPRODUCTIONS[name], 'quick', [0, 1, 2], cells(values)).checks.map((c) => c.verdict);

describe('length-generalization tables', () => {
  it("Cho: the paper profile is Cho et al.'s setup (coupling 1 layer × 4 heads, baselines 6 × 8), tested to 200 digits", () => {
    const coupled = unit('cho2024-coupling', 'paper', 'coupled-seed0').config;
    expect(coupled.model).toMatchObject({ pos: 'coupled', layers: 1, heads: 4, d_model: 512, d_ff: 2048 });
    expect(coupled.task).toMatchObject({ train_digits: [1, 30], test_digits: [1, 200], train_size: 1_000_000 });
    expect(coupled.train).toMatchObject({ steps: 50_000, batch: 1000, lr: 1e-4, min_lr: 1e-5, warmup: 500, weight_decay: 0, beta2: 0.999 });
    for (const id of ['nope', 'ape', 'random-ape']) {
      expect(unit('cho2024-coupling', 'paper', `${id}-seed0`).config.model).toMatchObject({ layers: 6, heads: 8 });
    }
    expect(unit('cho2024-coupling', 'paper', 'random-ape-seed0').config.model.random_positions).toBe(640);
    expect(cho.profiles.paper.seeds).toBe(4);
  });

  it('Cho quick: 3 seeds of coupling, NoPE and APE trained on at most 10 digits, tested to at least 3× that', () => {
    const quick = unitsOf(cho, 'quick', cho.profiles.quick.seeds, 'x');
    expect(new Set(quick.map((u) => u.cell.id))).toEqual(new Set(['coupled', 'coupled-relative', 'nope', 'ape']));
    expect(cho.profiles.quick.seeds).toBe(3);
    for (const u of quick) {
      expect(u.config.task.train_digits[1]).toBeLessThanOrEqual(10);
      expect(u.config.task.test_digits[1]).toBeGreaterThanOrEqual(3 * u.config.task.train_digits[1]);
      expect(u.config.model.layers).toBe(1);
    }
  });

  it('McLeish: trained on at most 20 digits, tested to 100 with the 100 × 100 length grid; the looped model is 8 layers run twice', () => {
    const abacus = unit('mcleish2024-abacus', 'paper', 'abacus-seed0').config;
    expect(abacus.task).toMatchObject({ train_digits: [1, 20], test_digits: [1, 100] });
    expect(abacus.model).toMatchObject({ pos: 'abacus', layers: 16, recurrence: 1, d_model: 1024, abacus_offset: 100 });
    expect(unit('mcleish2024-abacus', 'paper', 'abacus-looped-seed0').config.model).toMatchObject({ layers: 8, recurrence: 2 });
    expect(unit('mcleish2024-abacus', 'paper', 'abacus-fire-seed0').config.model.pos).toEqual(['abacus', 'fire']);
    expect(mcleish.profiles.paper.probes).toEqual([{ name: 'length', samples: 10, maxDigits: 100 }]);
    const quick = unitsOf(mcleish, 'quick', 1, 'x');
    expect(quick).toHaveLength(6);
    for (const u of quick) expect(u.config.task.test_digits[1]).toBeGreaterThanOrEqual(3 * u.config.task.train_digits[1]);
    expect(quick.find((u) => u.cell.id === 'abacus-looped')!.config.model).toMatchObject({ layers: 1, recurrence: 2 });
    // The lab's variant as measured (docs/results.md): one layer, 2,000 steps, the `=` offset and length-scaled attention.
    const lab = quick.find((u) => u.cell.id === 'abacus-lab')!.config;
    expect(lab.model).toMatchObject({ layers: 1, pos: 'abacus', abacus_symbol_ids: 'before-answer', length_scaled_attention: true });
    expect(lab.train.steps).toBe(2000);
    expect(unit('mcleish2024-abacus', 'quick', 'abacus-seed0').config.model).toMatchObject({ layers: 2, abacus_symbol_ids: 'zero' });
    // Without --seeds: three seeds of the lab column (its check is a median), one of each baseline.
    const byDefault = unitsOf(mcleish, 'quick', undefined, 'x');
    expect(byDefault.map((u) => u.id).sort()).toEqual(
      [
        ...quick.filter((u) => u.cell.id !== 'abacus-lab').map((u) => u.id),
        'abacus-lab-seed0',
        'abacus-lab-seed1',
        'abacus-lab-seed2',
      ].sort(),
    );
    const runsRoot = path.join(os.tmpdir(), 'arith-nothing-here');
    expect(describePlan(mcleish, planReproduction(mcleish, { runsRoot }))[0]).toMatch(
      /^mcleish2024-abacus, profile quick: 6 cells x 1 seed \(abacus-lab: 3\) = 8 runs in .*8 new/,
    );
    expect(describePlan(mcleish, planReproduction(mcleish, { seeds: 2, runsRoot }))[0]).toMatch(/6 cells x 2 seeds = 12 runs/);
    // Work starts with the costliest runs by FLOPs: the 2-layer baselines of 1,500 steps before the 1-layer lab runs
    // of 2,000 (steps x batch x length alone put the lab runs first, and the hour's last round ran long).
    const order = planReproduction(mcleish, { runsRoot }).work.map((u) => u.cell.id);
    expect(order.slice(-3)).toEqual(['abacus-lab', 'abacus-lab', 'abacus-lab']);
  });

  it("prints the papers' numbers with their sources, and marks the ones not quoted", () => {
    for (const metric of ['at-2x', 'at-3x', 'longest', 'beyond']) {
      const coupled = cho.paper[paperKey('all', 'coupled', metric)];
      expect(coupled).toMatchObject({ min: 95, text: '> 95 (median)' });
      expect(coupled.source).toMatch(/Cho et al\. 2024.*200-digit/);
      expect(cho.paper[paperKey('all', 'nope', metric)]).toMatchObject({ text: 'n/a', source: expect.stringMatching(/^not quoted/) });
    }
    expect(mcleish.paper[paperKey('all', 'abacus-looped', 'longest')]).toMatchObject({ max: 99, text: 'up to 99' });
    expect(mcleish.paper[paperKey('all', 'abacus-looped', 'longest')].source).toMatch(/McLeish et al\. 2024.*100-digit/);
    expect(kazemnejad.paper[paperKey('all', 't5', 'beyond')]).toMatchObject({ min: 5.8, max: 8.4, text: '5.8–8.4' });
  });

  it("reads exact match at 2× and 3× the run's own training length and at its longest tested length", () => {
    const accuracy = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [String(i + 1), (i + 1) / 1000]));
    const info = { status: 'finished', result: { accuracy, accuracy_in_range: 1, accuracy_beyond: 0 } } as unknown as RunInfo;
    const read = (profile: ProfileName) => {
      const run: FinishedRun = { info, config: unit('cho2024-coupling', profile, 'coupled-seed0').config, probes: {} };
      return Object.fromEntries(cho.metrics.map((m) => [m.id, m.read(run)]));
    };
    // Quick: trained on 1-10, tested on 1-30 (3× = 30). Paper: 1-30, tested on 1-200.
    expect(read('quick')).toEqual({ 'in-range': 100, 'at-2x': 2, 'at-3x': 3, longest: 3, beyond: 0 });
    expect(read('paper')).toEqual({ 'in-range': 100, 'at-2x': 6, 'at-3x': 9, longest: 20, beyond: 0 });
  });

  it("Cho's checks read the median over seeds: one failed seed of three does not sink coupling, one lucky seed does not lift it", () => {
    const inRange = [100, 100, 100];
    // Median 97 (mean 68.7): the paper's statistic says yes.
    expect(
      verdicts('cho2024-coupling', {
        coupled: { 'in-range': inRange, 'at-2x': [99, 97, 10], 'at-3x': [96, 95, 0] },
        'coupled-relative': { 'at-2x': [96, 98, 0] },
        nope: { 'in-range': inRange, 'at-2x': [0, 1, 0], 'at-3x': [0, 0, 0] },
        ape: { 'in-range': [100, 90, 96], 'at-2x': [0, 0, 40], 'at-3x': [0, 0, 0] },
      }),
    ).toEqual(['yes', 'yes', 'yes', 'yes']);
    expect(
      verdicts('cho2024-coupling', {
        coupled: { 'in-range': inRange, 'at-2x': [100, 50, 10], 'at-3x': [100, 0, 0] },
        'coupled-relative': { 'at-2x': [100, 40, 0] },
        nope: { 'in-range': [20, 30, 40], 'at-2x': [0, 0, 0], 'at-3x': [0, 0, 0] },
        ape: { 'in-range': inRange, 'at-2x': [0, 0, 0], 'at-3x': [0, 0, 0] },
      }),
    ).toEqual(['no', 'no', 'no', 'no']);
    // NoPE generalizing (median 30 at 2×) also answers no; a missing entry (the lab variant, 3×) answers unknown.
    expect(
      verdicts('cho2024-coupling', {
        coupled: { 'in-range': inRange, 'at-2x': [99, 99, 99] },
        nope: { 'in-range': inRange, 'at-2x': [30, 30, 20] },
        ape: { 'in-range': inRange, 'at-2x': [0, 0, 0] },
      }),
    ).toEqual(['no', 'unknown', 'unknown', 'yes']);
  });

  it("McLeish's checks: Abacus at 90% at 2× above FIRE and NoPE; the lab variant at 90%; looped within 5 points of standard at the longest length", () => {
    const fit = [99];
    const table = (abacus: number, fire: number, looped: number, lab: number) =>
      verdicts('mcleish2024-abacus', {
        abacus: { 'in-range': fit, 'at-2x': [abacus], longest: [80] },
        'abacus-fire': { 'in-range': fit, 'at-2x': [91], longest: [70] },
        fire: { 'in-range': fit, 'at-2x': [fire], longest: [0] },
        nope: { 'in-range': [50], 'at-2x': [0], longest: [0] },
        'abacus-looped': { 'in-range': fit, 'at-2x': [95], longest: [looped] },
        'abacus-lab': { 'in-range': fit, 'at-2x': [lab], longest: [60] },
      });
    // Checks: Abacus >= 90 above FIRE and NoPE; the lab variant >= 90; Abacus + FIRE >= 90; looped; every model fits.
    expect(table(95, 20, 76, 93)).toEqual(['yes', 'yes', 'yes', 'yes', 'no']);
    expect(table(89, 20, 74, 85)).toEqual(['no', 'no', 'yes', 'no', 'no']);
    expect(table(95, 96, 90, 93)).toEqual(['no', 'yes', 'yes', 'yes', 'no']);
  });

  it("McLeish's quick table with three lab seeds and one of each baseline: the lab cell shows its spread, a baseline its one number", () => {
    const one = { 'in-range': [99], 'at-2x': [19] };
    const results = summarizeResults(
      mcleish,
      'quick',
      [0, 1, 2],
      cells({
        abacus: one,
        'abacus-fire': one,
        fire: one,
        nope: one,
        'abacus-looped': one,
        'abacus-lab': { 'in-range': [99, 99, 99], 'at-2x': [84, 93, 94] },
      }),
    );
    const page = renderMarkdown(results);
    expect(page).toContain('seeds 0, 1, 2 (mean, then median and min–max; not every column has every seed)');
    const at2x = page.split('\n').find((line) => line.startsWith('| at 2×'))!;
    expect(at2x).toContain('| 19.0 |');
    expect(at2x).not.toContain('seeds]');
    expect(at2x).toContain('90.3 (med 93.0, 84.0–94.0)');
  });

  it('Kazemnejad: a T5 column, and the ordering check counts it with NoPE and ALiBi', () => {
    expect(kazemnejad.columns.entries.map((c) => c.id)).toContain('t5');
    expect(unit('kazemnejad2023-pe', 'quick', 't5-seed0').config.model.pos).toBe('t5');
    const beyond = (values: Record<string, number>) =>
      summarizeResults(
        kazemnejad,
        'quick',
        [0],
        cells(Object.fromEntries(Object.entries(values).map(([pe, v]) => [pe, { 'in-range': [100], beyond: [v] }]))),
      ).checks[0].verdict;
    const ordered = { nope: 9, t5: 7, alibi: 8, ape: 0.5, sinusoidal: 0.5, rope: 0 };
    expect(beyond(ordered)).toBe('yes');
    expect(beyond({ ...ordered, t5: 0.2 })).toBe('no');
  });

  it('Kazemnejad: splits the answer digits of longer problems into trained and new positions (digits probe)', () => {
    const config = unit('kazemnejad2023-pe', 'quick', 'ape-seed0').config;
    // Trained on 1-8 digits, so training sums have 9 digits (positions 0-8). A 5-digit length is in range and ignored;
    // at 10 digits, positions 0-8 are right 3 times in 4 and positions 9-10 never.
    const position = (p: number, correct: number) => ({ position: p, count: 4, correct, accuracy: correct / 4 });
    const digits = {
      lengths: [
        { digits: 5, inTrainingRange: true, positions: [position(0, 0)] },
        { digits: 10, inTrainingRange: false, positions: Array.from({ length: 11 }, (_, p) => position(p, p < 9 ? 3 : 0)) },
      ],
    };
    const run = { info: {} as RunInfo, config, probes: { digits } } as FinishedRun;
    const read = (id: string) => kazemnejad.metrics.find((m) => m.id === id)!.read(run);
    expect(read('beyond-trained-digits')).toBe(75);
    expect(read('beyond-new-digits')).toBe(0);
    expect(kazemnejad.metrics.find((m) => m.id === 'beyond-new-digits')!.read({ ...run, probes: {} })).toBeNull();
    const where = (apeTrained: number) =>
      summarizeResults(
        kazemnejad,
        'quick',
        [0],
        cells({
          nope: { 'in-range': [40], 'beyond-trained-digits': [10], 'beyond-new-digits': [9] },
          ape: { 'in-range': [100], 'beyond-trained-digits': [apeTrained], 'beyond-new-digits': [5] },
          rope: { 'in-range': [99], 'beyond-trained-digits': [70], 'beyond-new-digits': [2] },
        }),
      ).checks[1];
    // NoPE does not fit the training range, so its digits do not count; APE at chance fails the check.
    expect(where(80)).toMatchObject({ verdict: 'yes', evidence: 'APE (learned) 80.0 (new positions 5.0), RoPE 70.0 (new positions 2.0)' });
    expect(where(8.5).verdict).toBe('no');
    expect(unit('kazemnejad2023-pe', 'paper', 'ape-seed0').config.format).toMatchObject({ name: 'reversed', pad_width: null });
    expect(unit('kazemnejad2023-pe', 'quick', 'ape-seed0').config.format).toMatchObject({ name: 'reversed-padded', pad_width: 8 });
  });
});

describe('estimated GPU time', () => {
  it('is about 6 × parameters × training tokens for a paper cell (Kaplan et al.), at the stated throughput', () => {
    const config = unit('cho2024-coupling', 'paper', 'coupled-seed0').config;
    const { flops, seconds } = estimateGpuTime(config);
    const weights = 4 * 512 * 512 + 2 * 512 * 2048;
    // 96 tokens: the longest 30-digit padded training sequence (<bos>, 30 + 30 digits, + and =, the 31-digit sum, newline, <eos>)
    const tokens = 50_000 * 1000 * 96;
    expect(flops / (6 * weights * tokens)).toBeGreaterThan(1);
    expect(flops / (6 * weights * tokens)).toBeLessThan(1.1);
    expect(seconds).toBeCloseTo(flops / ASSUMED_GPU_FLOPS);
  });

  it('counts the layers of a looped model once per pass, and the steps', () => {
    const standard = unit('mcleish2024-abacus', 'paper', 'abacus-seed0').config;
    const looped = unit('mcleish2024-abacus', 'paper', 'abacus-looped-seed0').config;
    expect(estimateGpuTime(looped).flops).toBeCloseTo(estimateGpuTime(standard).flops, -10);
    const half = { ...standard, train: { ...standard.train, steps: standard.train.steps / 2 } };
    const ratio = estimateGpuTime(half).flops / estimateGpuTime(standard).flops;
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.55);
  });

  it('--dry-run of a paper profile prints it for every cell and the total; the quick profile does not', () => {
    const runsRoot = path.join(os.tmpdir(), 'arith-lab-no-such-runs');
    const plan = planReproduction(cho, { profile: 'paper', runsRoot });
    const lines = describePlan(cho, plan, { eachUnit: true });
    const start = lines.findIndex((line) => line.startsWith('estimated GPU time per run (not measured'));
    expect(start).toBeGreaterThan(0);
    expect(lines[start]).toContain(`${ASSUMED_GPU_FLOPS / 1e12} TFLOP/s`);
    const cellLines = lines.slice(start + 1, start + 6);
    expect(cellLines.map((line) => line.trim().split(':')[0])).toEqual(['coupled', 'coupled-relative', 'nope', 'ape', 'random-ape']);
    for (const line of cellLines) expect(line).toMatch(/: (\d+h\d\dm|\d+m\d\ds) \(\d\.\de\+\d+ FLOPs\)$/);
    expect(lines[start + 6]).toMatch(/^ {2}all 20 runs: \d+h\d\dm of GPU time$/);
    const quick = describePlan(cho, planReproduction(cho, { profile: 'quick', runsRoot }), { eachUnit: true });
    expect(quick.some((line) => line.includes('GPU time'))).toBe(false);
  });
});
