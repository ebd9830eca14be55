import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.ts';
import type { AttentionPrompt } from '../src/probes/attention.ts';
import type { CarriesResult } from '../src/probes/carries.ts';
import type { LinearResult } from '../src/probes/linear.ts';
import type { ReadoutResult } from '../src/probes/readout.ts';
import { linearFigure, readoutFigure } from '../src/report/residualFigures.ts';
import type { DigitsResult } from '../src/probes/digits.ts';
import type { LengthResult } from '../src/probes/length.ts';
import { compareFigures, compareLossFigure, differingFields, finalByLength, runLabels, summarize } from '../src/report/compare.ts';
import {
  accuracyByStepFigure,
  attentionFigure,
  carriesFigures,
  digitsFigure,
  lengthGridFigure,
  lossFigure,
  bins,
  tokenLabel,
} from '../src/report/figures.ts';
import { expandGlob, expandRuns, segmentPattern } from '../src/report/findRuns.ts';
import { renderHtml } from '../src/report/html.ts';
import { comparePage, pageFigures, runPage, type ReportPage } from '../src/report/page.ts';
import { readRun, type RunData } from '../src/report/readRun.ts';
import { buildReport } from '../src/report/report.ts';
import type { MetricsRecord, ProbeMeta, RunInfo } from '../src/runs/records.ts';
import { fabricateRun } from './fixtures/reportRuns.ts';

// Fixture data written out by hand: every number below is checked against the spec built from it.
const meta: ProbeMeta = { step: 300, seconds: 1, problems: 10, decoded: 10 };

function config(pos: string, extra: Record<string, unknown> = {}) {
  return {
    name: `addition-${pos}`,
    seed: 0,
    task: { op: 'add', train_digits: [1, 2], test_digits: [1, 3] },
    model: { layers: 1, heads: 2, pos },
    train: { steps: 300, eval_every: 100, eval_size: 50, log_every: 100, loss_on: 'answer' },
    ...extra,
  };
}

const metrics: MetricsRecord[] = [
  {
    step: 100,
    loss: 1.5,
    lr: 0.001,
    tokens_per_s: 1000,
    elapsed_s: 1,
    accuracy: { '1': 0.5, '2': 0.1, '3': 0 },
    accuracy_in_range: 0.3,
    accuracy_beyond: 0,
  },
  { step: 200, loss: 0.5, lr: 0.0005, tokens_per_s: 1000, elapsed_s: 2 },
  {
    step: 300,
    loss: 0.1234567,
    lr: 0.0001,
    tokens_per_s: 1000,
    elapsed_s: 3,
    accuracy: { '1': 1, '2': 0.9, '3': 0.25 },
    accuracy_in_range: 0.95,
    accuracy_beyond: 0.25,
  },
];

const info = (status: RunInfo['status'], extra: Partial<RunInfo> = {}): RunInfo => ({
  status,
  name: 'addition-nope',
  backend: 'wasm',
  started_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:05:00Z',
  versions: {},
  git_commit: null,
  step: 300,
  ...extra,
});

const length: LengthResult & ProbeMeta = {
  ...meta,
  probe: 'length',
  description: '',
  op: 'add',
  format: 'reversed',
  pos: 'nope',
  seed: 0,
  samples: 10,
  trainDigits: [1, 2],
  testDigits: [1, 3],
  maxDigits: 3,
  requestedMaxDigits: 4,
  maxDigitsLimit: 'max_len 17',
  cells: [],
  accuracy: [
    [1, 0.9, 0.2],
    [0.8, 0.7, 0.1],
    [0.3, 0.1, null],
  ],
  diagonal: [1, 2, 3].map((n) => ({
    digitsA: n,
    digitsB: n,
    inTrainingRange: n <= 2,
    source: 'held-out',
    seenInTraining: 'no',
    count: 10,
    correct: 10 - 3 * n,
    accuracy: (10 - 3 * n) / 10,
  })),
  summary: { diagonalInRange: 0.55, diagonalBeyond: 0.1, gridInRange: 0.85, gridBeyond: 0.14 },
};

const tally = (correct: number, count: number) => ({ count, correct, accuracy: count ? correct / count : null });

const digits: DigitsResult & ProbeMeta = {
  ...meta,
  probe: 'digits',
  description: '',
  answerOrder: 'lsb-first',
  samples: 10,
  lengths: [1, 2, 3].map((n) => ({
    digits: n,
    inTrainingRange: n <= 2,
    problems: 10,
    unparsed: 0,
    positions: Array.from({ length: n + 1 }, (_, position) => ({ position, ...tally(10 - position, 10), carryIn: null, noCarryIn: null })),
  })),
};

const carries: CarriesResult & ProbeMeta = {
  ...meta,
  probe: 'carries',
  description: '',
  op: 'add',
  sampling: 'stratified',
  samples: 10,
  bucketings: [
    {
      name: 'carries',
      description: 'number of columns that produce a carry',
      lengths: [],
      inRange: [
        { value: 0, ...tally(9, 10) },
        { value: 1, ...tally(5, 10) },
      ],
      beyond: [{ value: 0, ...tally(2, 10) }],
    },
    // No longer lengths probed: that group has no problems and gets no bars.
    {
      name: 'longest-chain',
      description: 'longest run',
      lengths: [],
      inRange: [{ value: 0, ...tally(9, 10) }],
      beyond: [{ value: 0, ...tally(0, 0) }],
    },
  ],
};

function attentionPrompt(layers: number, heads: number): AttentionPrompt {
  const tokens = ['<bos>', '$', '1', '+', '2', '=', '3', '$'];
  const pattern = tokens.map((_, q) => tokens.map((__, k) => (k <= q ? 1 / (q + 1) : 0)));
  return {
    problem: '1+2',
    digits: 1,
    inTrainingRange: true,
    output: '3$',
    correct: true,
    tokens,
    roles: ['bos', null, 'a0', null, 'b0', null, 'answer0', null],
    promptLength: 6,
    layers: Array.from({ length: layers }, (_, layer) => ({
      layer,
      heads: Array.from({ length: heads }, (__, head) => ({ head, pattern, answerDigits: [] })),
    })),
  };
}

function runData(pos: string, extra: Partial<RunData> = {}): RunData {
  const result = { accuracy: metrics[2].accuracy!, accuracy_in_range: 0.95, accuracy_beyond: 0.25 };
  return {
    dir: `runs/addition-${pos}-x`,
    name: `addition-${pos}-x`,
    config: config(pos),
    info: info('finished', { result }),
    metrics,
    probes: {},
    lengthByStep: [],
    notes: [],
    ...extra,
  };
}

const ids = (page: ReportPage) => pageFigures(page).map((f) => f.id);
const notes = (page: ReportPage) =>
  [...page.sections, ...page.aside].flatMap((s) => s.blocks.flatMap((b) => (b.kind === 'note' ? [b.text] : [])));

describe('figure specs of one run', () => {
  it('loss and learning rate share the step axis, the learning rate on a second y axis', () => {
    const figure = lossFigure(runData('nope'))!;
    expect(figure.data).toHaveLength(2);
    expect(figure.data[0]).toMatchObject({ name: 'training loss', x: [100, 200, 300], y: [1.5, 0.5, 0.1235] });
    expect(figure.data[1]).toMatchObject({ name: 'learning rate', x: [100, 200, 300], y: [0.001, 0.0005, 0.0001], yaxis: 'y2' });
    expect(figure.layout.yaxis).toMatchObject({ type: 'log', title: { text: expect.stringMatching(/loss/) } });
    expect(figure.layout.xaxis).toMatchObject({ title: { text: 'training step' } });
    expect(lossFigure(runData('nope', { metrics: [] }))).toBeNull();
  });

  it('a run with the running-sum auxiliary loss adds its loss on the loss axis', () => {
    const withAux = metrics.map((r, i) => ({ ...r, aux_loss: [0.25, 0.0625, 0.01][i] }));
    const figure = lossFigure(runData('nope', { metrics: withAux }))!;
    expect(figure.data.map((t) => t.name)).toEqual(['training loss', 'auxiliary loss (running sum, before its weight)', 'learning rate']);
    expect(figure.data[1]).toMatchObject({ x: [100, 200, 300], y: [0.25, 0.0625, 0.01] });
    expect(figure.data[1].yaxis).toBeUndefined();
  });

  it('held-out accuracy by step: one line per test length, in percent, evaluation steps only', () => {
    const figure = accuracyByStepFigure(runData('nope'))!;
    expect(figure.data.map((t) => t.name)).toEqual(['1 digit (trained)', '2 digits (trained)', '3 digits (beyond)']);
    expect(figure.data.map((t) => t.x)).toEqual([
      [100, 300],
      [100, 300],
      [100, 300],
    ]);
    expect(figure.data.map((t) => t.y)).toEqual([
      [50, 100],
      [10, 90],
      [0, 25],
    ]);
    expect(figure.data.map((t) => (t.line as { dash: string }).dash)).toEqual(['solid', 'solid', 'dash']);
    expect(figure.layout.yaxis).toMatchObject({ title: { text: 'exact match (%)' } });
    expect(accuracyByStepFigure(runData('nope', { metrics: [metrics[1]] }))).toBeNull();
  });

  it('with a weight average (train.ema), a dotted line per length for the online weights', () => {
    const withOnline = metrics.map((r) => (r.accuracy ? { ...r, online_accuracy: { 1: 0.5, 2: 0.25, 3: 0 } } : r));
    const figure = accuracyByStepFigure(runData('nope', { metrics: withOnline }))!;
    expect(figure.data.map((t) => t.name).slice(3)).toEqual([
      '1 digit (trained), online weights',
      '2 digits (trained), online weights',
      '3 digits (beyond), online weights',
    ]);
    expect(figure.data[4].y).toEqual([25, 25]);
    expect(figure.data.slice(3).map((t) => (t.line as { dash: string }).dash)).toEqual(['dot', 'dot', 'dot']);
    expect(accuracyByStepFigure(runData('nope'))!.data).toHaveLength(3);
  });

  it('the length grid is a heatmap in percent with the trained lengths outlined', () => {
    const figure = lengthGridFigure(length);
    expect(figure.data).toHaveLength(1);
    expect(figure.data[0]).toMatchObject({ type: 'heatmap', x: [1, 2, 3], y: [1, 2, 3], zmin: 0, zmax: 100 });
    expect(figure.data[0].z).toEqual([
      [100, 90, 20],
      [80, 70, 10],
      [30, 10, null],
    ]);
    expect(figure.layout.shapes).toEqual([expect.objectContaining({ type: 'rect', x0: 0.5, x1: 2.5, y0: 0.5, y1: 2.5 })]);
    expect(JSON.stringify(figure.layout.title)).toMatch(/capped at 3 digits/);
  });

  it('per-digit bars: one bar group per position, one trace per operand length', () => {
    const figure = digitsFigure(digits, [1, 2]);
    expect(figure.data.map((t) => t.name)).toEqual(['1 digit (trained)', '2 digits (trained)', '3 digits (beyond)']);
    expect(figure.data[2]).toMatchObject({ type: 'bar', x: [0, 1, 2, 3], y: [100, 90, 80, 70] });
    expect(figure.layout.barmode).toBe('group');
  });

  it('carry buckets: trained and longer lengths as two bar traces, empty groups left out', () => {
    const [byCount, byChain] = carriesFigures(carries);
    expect(byCount.id).toBe('carries-carries');
    expect(byCount.data.map((t) => t.y)).toEqual([[90, 50], [20]]);
    expect(byChain.data).toHaveLength(1);
  });

  it('attention: a layers x heads grid of heatmaps, each on its own axes, tokens as tick labels', () => {
    const figure = attentionFigure(attentionPrompt(2, 3), 0, meta);
    expect(figure.data).toHaveLength(6);
    const axes = figure.data.map((t) => `${t.xaxis}/${t.yaxis}`);
    expect(new Set(axes).size).toBe(6);
    expect(axes[0]).toBe('x/y');
    expect(figure.layout.grid).toMatchObject({ rows: 2, columns: 3 });
    expect((figure.layout.xaxis4 as { ticktext: string[] }).ticktext).toEqual(['BOS', '$', '1', '+', '2', '=', '3', '$']);
    // Only the bottom row carries key labels, only the left column query labels.
    expect((figure.layout.xaxis as { showticklabels: boolean }).showticklabels).toBe(false);
    expect((figure.layout.xaxis4 as { showticklabels: boolean }).showticklabels).toBe(true);
    expect((figure.layout.yaxis2 as { showticklabels: boolean }).showticklabels).toBe(false);
    expect((figure.layout.annotations as { text: string }[]).map((a) => a.text)).toContain('layer 1 · head 2');
    expect(tokenLabel(' ')).toBe('␣');
    expect(tokenLabel('<pad>')).toBe('‹pad›');
  });

  it('long logs are cut into at most 500 bins of consecutive records, each record in one, the last kept', () => {
    const records = Array.from({ length: 10_001 }, (_, i) => i);
    const binned = bins(records);
    expect(binned.length).toBeLessThanOrEqual(500);
    expect(binned.flat()).toEqual(records);
    expect(new Set(binned.slice(0, -1).map((bin) => bin.length))).toEqual(new Set([21]));
    expect(binned.at(-1)!.at(-1)).toBe(10_000);
    expect(bins(records.slice(0, 300)).map((bin) => bin.length)).toEqual(Array(300).fill(1));
  });

  it('a long loss log is drawn as bin means: batch noise averages out, the trend and the last step stay', () => {
    // 10,000 logged steps whose loss alternates 0.5 above and below a falling trend, as batch noise does.
    const long = Array.from({ length: 10_000 }, (_, i) => ({
      ...metrics[0],
      step: (i + 1) * 10,
      loss: 2 - i / 10_000 + (i % 2 === 0 ? 0.5 : -0.5),
      aux_loss: i % 2 === 0 ? 0.3 : 0.1,
      accuracy: undefined,
    }));
    const figure = lossFigure(runData('nope', { metrics: long }))!;
    const [loss, aux, lr] = figure.data as { x: number[]; y: number[] }[];
    expect(loss.x).toHaveLength(500);
    expect(loss.x.at(-1)).toBe(100_000);
    for (const [j, y] of loss.y.entries()) expect(y).toBeCloseTo(2 - (j * 20 + 9.5) / 10_000, 3);
    expect(new Set(aux.y)).toEqual(new Set([0.2]));
    expect(lr.x).toEqual(loss.x);
    expect((figure.layout.title as { subtitle: { text: string } }).subtitle.text).toMatch(/each point the mean of 20 logged steps/);
    const compared = compareLossFigure([runData('nope', { metrics: long })], ['long'], 'time')!;
    expect(compared.data[0].y).toEqual(loss.y);
    expect(compared.data[0].customdata).toEqual(loss.x);
    expect(compared.data[0].hovertemplate).toMatch(/mean of 20 logged steps/);
  });
});

describe('the page of one run', () => {
  it('a run without probes says so and draws the training curves', () => {
    const page = runPage(runData('nope'));
    expect(ids(page)).toEqual(['loss', 'accuracy-by-step']);
    expect(notes(page).join('\n')).toMatch(/no probes yet.*arith-lab probe runs\/addition-nope-x/);
  });

  it('a run just started (no metrics) says what is missing instead of failing', () => {
    const page = runPage(runData('nope', { metrics: [], info: info('running', { step: 0 }) }));
    expect(ids(page)).toEqual([]);
    expect(notes(page).join('\n')).toMatch(/No metrics yet/);
    expect(notes(page).join('\n')).toMatch(/No evaluation yet \(the first comes at step 100\)/);
    expect(page.subtitle).toMatch(/^running/);
  });

  it('a probed run gets every probe figure; a missing probe gets a note naming the command', () => {
    const probes = {
      length,
      digits,
      carries,
      attention: {
        ...meta,
        probe: 'attention' as const,
        description: '',
        convention: '',
        prompts: [attentionPrompt(1, 2), attentionPrompt(1, 2)],
        summary: [],
      },
    };
    const page = runPage(runData('nope', { probes }));
    expect(ids(page)).toEqual([
      'loss',
      'accuracy-by-step',
      'length-grid',
      'digits',
      'carries-carries',
      'carries-longest-chain',
      'attention-0',
      'attention-1',
    ]);
    expect(notes(page).join('\n')).toMatch(/No probes\/errors.json yet: `arith-lab probe runs\/addition-nope-x --probe errors`/);
    expect(notes(page)).toContain('The grid stops at 3 digits (4 asked): max_len 17.');
    expect(notes(page)).toContain(
      'No linear or readout probe yet: `arith-lab probe runs/addition-nope-x --probe linear --probe readout` adds them.',
    );
  });

  it('what the residual stream holds: the linear probe as a heatmap of R², the readout as lines by the size of ĉ_k', () => {
    const linear: LinearResult & ProbeMeta = {
      ...meta,
      probe: 'linear',
      description: '',
      convention: '',
      digits: 4,
      trainProblems: 400,
      testProblems: 100,
      scores: ['embed', 'blocks.0.resid_post', 'blocks.1.resid_post'].flatMap((activation, a) =>
        [0, 1, 2].map((k) => ({
          quantity: 'running_sum' as const,
          fit: 'ridge' as const,
          metric: 'r2' as const,
          activation,
          k,
          score: a / 2 - k / 10,
          rmse: 3 - a,
        })),
      ),
    };
    const readout: ReadoutResult & ProbeMeta = {
      ...meta,
      probe: 'readout',
      description: '',
      convention: '',
      digits: 4,
      trainProblems: 800,
      testProblems: 200,
      activations: ['embed', 'blocks.0.resid_post', 'blocks.1.resid_post'],
      binWidth: 30,
      bins: [
        { from: 0, to: 29, positions: 400, sumRead: [0.05, 0.4, 1], meanError: [20, 2, 0.1], digitWritten: 1, wrongDigitSumRead: 0 },
        {
          from: 180,
          to: 209,
          positions: 33,
          sumRead: [0, 0.3, 0.94],
          meanError: [40, 5, 0.2],
          digitWritten: 0.12,
          wrongDigitSumRead: 0.82,
        },
      ],
    };
    const page = runPage(runData('nope', { probes: { readout } }));
    expect(ids(page)).toContain('readout');
    expect(notes(page).join('\n')).toMatch(/No probes\/linear.json yet: `arith-lab probe runs\/addition-nope-x --probe linear`/);
    const heat = linearFigure(linear);
    expect(heat.data[0].y).toEqual(['embed', 'after block 1', 'after block 2']);
    expect(heat.data[0].x).toEqual([0, 1, 2]);
    expect(heat.data[0].z).toEqual([
      [0, -0.1, -0.2],
      [0.5, 0.4, 0.3],
      [1, 0.9, 0.8],
    ]);
    expect(heat.data[0].customdata).toEqual([
      [3, 3, 3],
      [2, 2, 2],
      [1, 1, 1],
    ]);
    const lines = readoutFigure(readout);
    expect(lines.data.map((t) => t.name)).toEqual([
      'ĉ_k read embed',
      'ĉ_k read after block 1',
      'ĉ_k read after block 2',
      'digit written right',
    ]);
    expect(lines.data[2].y).toEqual([100, 94]);
    expect(lines.data[3].y).toEqual([100, 12]);
    expect(lines.data[3].x).toEqual(['0-29', '180-209']);
  });

  it('figure ids are unique element ids', async () => {
    const run = readRun(
      await fabricateRun(fs.mkdtempSync(path.join(os.tmpdir(), 'arith-report-')), {
        steps: 400,
        probeEvery: 200,
        samples: 10,
        maxDigits: 6,
      }),
    );
    const page = runPage(run);
    const figureIds = ids(page);
    expect(new Set(figureIds).size).toBe(figureIds.length);
    // Attention prompts at 3, 5 and 7 digits; the grid stops at 6, so two.
    expect(figureIds).toEqual([
      'loss',
      'accuracy-by-step',
      'length-grid',
      'length-by-step',
      'digits',
      'carries-carries',
      'carries-longest-chain',
      'attention-0',
      'attention-1',
      'linear',
      'readout',
    ]);
    expect(pageFigures(page).find((f) => f.id === 'length-by-step')!.data).toHaveLength(6);
  });
});

describe('comparing runs', () => {
  it('labels runs by the config fields that differ, not by their names', () => {
    const runs = [runData('nope'), runData('rope')];
    expect(differingFields(runs)).toEqual(['model.pos']);
    expect(runLabels(runs)).toEqual(['model.pos=nope', 'model.pos=rope']);
    const lr = [runData('nope'), runData('nope', { config: config('nope', { seed: 1 }) })];
    expect(runLabels(lr)).toEqual(['seed=0', 'seed=1']);
    // When runs were written at other cadences, only what they train labels them; alone, the cadence does.
    const cadence = (seed: number, every: number) =>
      config('nope', { seed, train: { ...config('nope').train, eval_every: every, checkpoint_every: every } });
    const often = [runData('nope', { config: cadence(0, 100) }), runData('nope', { config: cadence(1, 500) })];
    expect(differingFields(often)).toEqual(['seed']);
    const onlyCadence = [runData('nope', { config: cadence(0, 100) }), runData('nope', { config: cadence(0, 500) })];
    expect(differingFields(onlyCadence)).toEqual(['train.eval_every', 'train.checkpoint_every']);
    // Identical configs: the directory names tell them apart.
    const same = [runData('nope'), runData('nope', { name: 'other' })];
    expect(differingFields(same)).toEqual([]);
    expect(runLabels(same)).toEqual(['addition-nope-x', 'other']);
  });

  it('final accuracy: run.json for a finished run, the latest evaluation for one in progress', () => {
    const finished = runData('nope', {
      info: info('finished', { result: { accuracy: {}, accuracy_in_range: 0.97, accuracy_beyond: 0.3 } }),
    });
    expect(summarize(finished)).toMatchObject({ source: 'final', inRange: 0.97, beyond: 0.3, status: 'finished' });
    const running = runData('nope', { info: info('running'), metrics: metrics.slice(0, 2) });
    expect(summarize(running)).toMatchObject({ source: 'latest evaluation', step: 100, inRange: 0.3, beyond: 0 });
    expect(finalByLength(running)).toEqual({ lengths: [1, 2, 3], accuracy: [0.5, 0.1, 0], source: 'evaluation' });
    expect(finalByLength(runData('nope', { probes: { length } }))).toMatchObject({ lengths: [1, 2, 3], source: 'length probe' });
  });

  it('overlays one trace per run with data, named by its label', () => {
    const runs = [
      runData('nope', { probes: { length } }),
      runData('rope'),
      runData('alibi', { metrics: [], info: info('running', { step: 0 }) }),
    ];
    const figures = compareFigures(runs);
    expect(figures.map((f) => [f.id, f.data.length])).toEqual([
      ['compare-by-length', 2],
      ['compare-grids', 1],
      ['compare-in-range', 2],
      ['compare-beyond', 2],
      ['compare-loss', 2],
      ['compare-loss-by-time', 2],
    ]);
    expect(figures[0].data.map((t) => t.name)).toEqual(['model.pos=nope', 'model.pos=rope']);
    const page = comparePage(runs);
    const table = page.sections[0].blocks[0];
    expect(table.kind).toBe('table');
    if (table.kind !== 'table') return;
    expect(table.table.columns.slice(0, 6)).toEqual(['run', 'model.pos', 'status', 'step', 'in range', 'beyond']);
    expect(table.table.rows[1].slice(0, 6)).toEqual(['addition-rope-x', 'rope', 'finished', '300 of 300', '95.0%', '25.0%']);
    expect(table.table.rows[2].slice(0, 6)).toEqual(['addition-alibi-x', 'alibi', 'running', '–', '–', '–']);
  });
});

describe('loss by training time', () => {
  it('puts each run at its minutes of training, so a run with slower steps lies further right at the same step', () => {
    const slow = metrics.map((r) => ({ ...r, elapsed_s: r.elapsed_s * 3 }));
    const runs = [runData('nope'), runData('rope', { metrics: slow })];
    const byStep = compareLossFigure(runs, ['fast', 'slow'])!;
    const byTime = compareLossFigure(runs, ['fast', 'slow'], 'time')!;
    expect(byStep.data[0].x).toEqual(byStep.data[1].x);
    expect(byTime.data[0].x).toEqual(metrics.map((r) => Number((r.elapsed_s / 60).toPrecision(4))));
    expect(byTime.data[1].x).toEqual(metrics.map((r) => Number(((r.elapsed_s * 3) / 60).toPrecision(4))));
    expect(byTime.data[1].y).toEqual(byStep.data[1].y);
    expect(byTime.data[1].customdata).toEqual(metrics.map((r) => r.step));
  });
});

describe('legends of the overlays', () => {
  it('short labels sit right of the plot; long ones (runs differing in several fields) go below it, a run per row', () => {
    const runs = [runData('nope'), runData('rope'), runData('alibi')];
    const short = compareLossFigure(runs, ['model.pos=nope', 'model.pos=rope', 'model.pos=alibi'])!.layout;
    expect(short.legend).toMatchObject({ x: 1.02, xanchor: 'left' });
    const long = ['nope', 'rope', 'alibi'].map((pos) => `model.pos=${pos}, train.lr=0.001, train.steps=3000, model.d_model=128`);
    const below = compareLossFigure(runs, long)!.layout;
    expect(below.legend).toMatchObject({ yref: 'container', y: 0, yanchor: 'bottom', entrywidth: 1, entrywidthmode: 'fraction' });
    // The plot keeps its height: the figure grows by a line per run, and the bottom margin holds the legend.
    const margin = below.margin as { b: number };
    expect((below.height as number) - margin.b).toBe(380 - 56);
    // Labels break after a comma into lines of at most 60 characters, and each line gets room.
    const names = compareLossFigure(runs, long)!.data.map((t) => t.name);
    expect(names[0]).toBe('model.pos=nope, train.lr=0.001, train.steps=3000,<br>model.d_model=128');
    const four = compareLossFigure([...runs, runData('t5')], [...long, `${long[0]}, seed=1`])!.layout;
    expect((four.height as number) - (below.height as number)).toBe(2 * 16 + 6);
  });
});

describe('the HTML page', () => {
  it('inlines plotly and the figure specs; nothing in the data can close the script element', () => {
    const run = runData('nope', { config: config('nope', { note: '</script><script>alert(1)</script>' }) });
    const html = renderHtml(runPage(run));
    expect(html).not.toMatch(/<script[^>]*\ssrc=/);
    expect(html).toMatch(/Plotly/);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    const json = /<script type="application\/json" id="report-figures">(.*?)<\/script>/s.exec(html)![1];
    expect(JSON.parse(json).map((f: { id: string }) => f.id)).toEqual(['loss', 'accuracy-by-step']);
    expect(/&lt;\/(<wbr>)?script&gt;/.test(html)).toBe(true);
    expect(html).toMatch(/data-figure="loss" data-traces="2"/);
  });
});

describe('reading runs', () => {
  it('tolerates a half-written metrics line and an unreadable probe, and says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-report-'));
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${JSON.stringify(metrics[0])}\n${JSON.stringify(metrics[1])}\n{"step": 3`);
    fs.mkdirSync(path.join(dir, 'probes'));
    fs.writeFileSync(path.join(dir, 'probes', 'length.json'), '{');
    const run = readRun(dir);
    expect(run.metrics.map((r) => r.step)).toEqual([100, 200]);
    expect(run.probes).toEqual({});
    expect(run.notes).toEqual([
      'no config.yaml',
      'no run.json',
      'metrics.jsonl: skipped 1 unreadable line(s) (a line being written?)',
      expect.stringMatching(/^probes\/length.json: unreadable/),
    ]);
    // The page still builds.
    expect(ids(runPage(run))).toEqual(['loss', 'accuracy-by-step']);
  });

  it('refuses a directory that is not a run, with a one-line user error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-report-'));
    expect(() => readRun(dir)).toThrow(UserError);
    expect(() => expandRuns([dir])).toThrow(/not a run directory/);
  });

  it('expands patterns itself, keeping only run directories', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-report-'));
    for (const name of ['addition-ape-1', 'addition-nope-1', 'mul-1', '.addition-hidden']) {
      fs.mkdirSync(path.join(root, name));
      fs.writeFileSync(path.join(root, name, 'metrics.jsonl'), '');
    }
    fs.writeFileSync(path.join(root, 'addition-compare.html'), '');
    expect(expandGlob(path.join(root, 'addition-*')).map((p) => path.basename(p))).toEqual([
      'addition-ape-1',
      'addition-compare.html',
      'addition-nope-1',
    ]);
    expect(expandRuns([path.join(root, 'addition-*')]).map((p) => path.basename(p))).toEqual(['addition-ape-1', 'addition-nope-1']);
    expect(expandRuns([path.join(root, '*-1'), path.join(root, 'mul-1')]).map((p) => path.basename(p))).toEqual([
      'addition-ape-1',
      'addition-nope-1',
      'mul-1',
    ]);
    expect(() => expandRuns([path.join(root, 'sub*')])).toThrow(/matches no run directory/);
    expect(segmentPattern('a[!b]?.*').test('ac1.x')).toBe(true);
    expect(segmentPattern('a[!b]?.*').test('ab1.x')).toBe(false);
    expect(segmentPattern('a.b').test('axb')).toBe(false);
  });
});

describe('building report files', () => {
  it('one run: <run>/report.html; several: runs/compare-<time>.html; the CLI prints the path', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-report-'));
    const small = { steps: 300, samples: 5, maxDigits: 6 };
    const nope = await fabricateRun(path.join(root, 'runs', 'addition-nope-1'), { ...small, pos: 'nope' });
    const rope = await fabricateRun(path.join(root, 'runs', 'addition-rope-1'), { ...small, pos: 'rope', probes: false });
    const single = buildReport([nope]);
    expect(single.file).toBe(path.join(nope, 'report.html'));
    expect(fs.readFileSync(single.file, 'utf8')).toMatch(/^<!doctype html>/);
    const several = buildReport([nope, rope], { runsRoot: path.join(root, 'runs'), now: new Date(2026, 0, 2, 3, 4, 5) });
    expect(several.file).toBe(path.join(root, 'runs', 'compare-20260102-030405.html'));
    expect(several.figures.map((f) => f.id)).toEqual([
      'compare-by-length',
      'compare-grids',
      'compare-in-range',
      'compare-beyond',
      'compare-loss',
      'compare-loss-by-time',
    ]);

    const cli = path.resolve('bin/arith-lab.js');
    const out = path.join(root, 'pe.html');
    const result = spawnSync(process.execPath, [cli, 'report', '--compare', 'runs/addition-*', '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(out);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/model.pos=rope/);
    const missing = spawnSync(process.execPath, [cli, 'report', '--compare', 'runs/nothing-*'], { cwd: root, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('arith-lab: error: runs/nothing-*: matches no run directory');
  });
});
