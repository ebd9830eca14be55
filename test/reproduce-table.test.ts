import { describe, expect, it } from 'vitest';
import {
  formatOurs,
  rankValues,
  spreadOf,
  renderMarkdown,
  summarizeResults,
  type CellResult,
  type SeedResult,
} from '../src/experiments/reproduce/table.ts';
import type { Reproduction } from '../src/experiments/reproductions/reproduction.ts';

/** A two-by-two table with one metric, and a one-row table with two metrics and a rank: no training. */
const base = {
  task: { op: 'add' as const, train_digits: [1, 2] as [number, number], test_digits: [1, 2] as [number, number] },
  format: { name: 'reversed' },
  train: { steps: 10 },
};
const profiles = { quick: { description: 'Tiny.', seeds: 3, overrides: {} }, paper: { description: 'Big.', seeds: 3, overrides: {} } };

const grid: Reproduction = {
  name: 'grid',
  title: 'A grid',
  citation: 'Someone 2023.',
  notes: ['A note.'],
  base,
  rows: {
    label: 'size',
    entries: [
      { id: 'small', label: '1k', overrides: {} },
      { id: 'large', label: '2k', overrides: {} },
    ],
  },
  columns: {
    label: 'format',
    entries: [
      { id: 'a', label: 'A', overrides: {} },
      { id: 'b', label: 'B', overrides: {} },
    ],
  },
  metrics: [{ id: 'exact', label: 'exact match', read: () => null }],
  paper: {
    'small/a/exact': { value: 1.5, text: '1.5', source: 'Table 1' },
    'small/b/exact': { value: 90, text: '90', source: 'Table 1' },
    'large/a/exact': { value: 50, text: '50', source: 'Table 1' },
    'large/b/exact': { value: 100, text: '100', source: 'Table 1' },
  },
  checks: [
    {
      question: 'Does B beat A at 1k?',
      answer: (mean) => {
        const [a, b] = [mean('small', 'a', 'exact'), mean('small', 'b', 'exact')];
        return a === null || b === null
          ? { verdict: 'unknown', evidence: 'missing' }
          : { verdict: b > a ? 'yes' : 'no', evidence: `${b} vs ${a}` };
      },
    },
  ],
  profiles,
};

function seeds(values: (number | null | 'failed' | 'missing')[]): SeedResult[] {
  return values.map((v, seed) => ({
    seed,
    runDir: `runs/x/${seed}`,
    status: v === 'failed' || v === 'missing' ? v : 'finished',
    values: { exact: typeof v === 'number' ? v : null },
  }));
}

const gridCells: CellResult[] = [
  { id: 'small-a', row: 'small', column: 'a', seeds: seeds([10, 20, 30]) },
  { id: 'small-b', row: 'small', column: 'b', seeds: seeds([50, 'failed', 70]) },
  { id: 'large-a', row: 'large', column: 'a', seeds: seeds(['failed', 'failed', 'failed']) },
  { id: 'large-b', row: 'large', column: 'b', seeds: seeds(['missing', 'missing', 'missing']) },
];

describe('reproduction table', () => {
  it('renders mean (min–max) over seeds beside the paper, marks partial, failed and missing cells, answers checks', () => {
    const results = summarizeResults(grid, 'quick', [0, 1, 2], gridCells, { now: new Date('2026-01-01T00:00:00Z') });
    expect(renderMarkdown(results)).toBe(
      [
        '## A grid',
        '',
        'Someone 2023.',
        '',
        '`grid`, profile `quick`, seeds 0, 1, 2 (mean, then median and min–max). Tiny.',
        '',
        '| size | A ours | paper | B ours | paper |',
        '|---|---:|---:|---:|---:|',
        '| 1k | 20.0 (med 20.0, 10.0–30.0) | 1.5 | 60.0 (med 60.0, 50.0–70.0) [2/3 seeds] | 90 |',
        '| 2k | failed | 50 | missing | 100 |',
        '',
        'Numbers: exact match, %. "ours": this lab; "paper": as published (sources in results.json).',
        '- paper: Table 1',
        '',
        'Shape checks (ours):',
        '- Does B beat A at 1k? **yes** (60 vs 20)',
        '',
        'Notes:',
        '- A note.',
        '',
      ].join('\n'),
    );
    expect(results.table.find((e) => e.row === 'small' && e.column === 'b')!.ours).toEqual({
      mean: 60,
      median: 60,
      min: 50,
      max: 70,
      n: 2,
    });
    expect(results.generatedAt).toBe('2026-01-01T00:00:00.000Z');
  });

  it('puts metrics down the side of a one-row table, with ours and the paper ranks', () => {
    const pe: Reproduction = {
      ...grid,
      name: 'pe',
      rows: { label: '', entries: [{ id: 'all', label: 'addition', overrides: {} }] },
      columns: {
        label: 'pe',
        entries: ['x', 'y', 'z'].map((id) => ({ id, label: id.toUpperCase(), overrides: {} })),
      },
      metrics: [
        { id: 'in', label: 'in range', read: () => null },
        { id: 'out', label: 'beyond', read: () => null },
      ],
      paper: {
        'all/x/in': { text: 'n/a', source: 'none' },
        'all/y/in': { text: 'n/a', source: 'none' },
        'all/z/in': { text: 'n/a', source: 'none' },
        'all/x/out': { min: 6, max: 10, text: '6–10', source: 'Fig. 1' },
        'all/y/out': { max: 0.1, text: '≤ 0.1', source: 'Fig. 1' },
        'all/z/out': { min: 7, max: 8, text: '7–8', source: 'Fig. 1' },
      },
      rank: { metric: 'out', label: 'rank beyond' },
      checks: [],
    };
    const cell = (id: string, values: [number, number][]): CellResult => ({
      id,
      row: 'all',
      column: id,
      seeds: values.map(([a, b], seed) => ({ seed, runDir: '', status: 'finished', values: { in: a, out: b } })),
    });
    const results = summarizeResults(pe, 'paper', [0], [cell('x', [[100, 0]]), cell('y', [[99.5, 2.25]]), cell('z', [[100, 0]])]);
    const lines = renderMarkdown(results).split('\n');
    expect(lines.slice(6, 11)).toEqual([
      '| metric | X ours | paper | Y ours | paper | Z ours | paper |',
      '|---|---:|---:|---:|---:|---:|---:|',
      '| in range | 100.0 | n/a | 99.5 | n/a | 100.0 | n/a |',
      '| beyond | 0.0 | 6–10 | 2.3 | ≤ 0.1 | 0.0 | 7–8 |',
      '| rank beyond | 2 | 1 | 1 | 3 | 2 | 2 |',
    ]);
    expect(lines[4]).toBe('`pe`, profile `paper`, seed 0. Big.');
    expect(results.rank!.ours.all).toEqual({ x: 2, y: 1, z: 2 });
  });

  it('shows the cells a profile skips as skipped, with the reason under the table', () => {
    const skipping: Reproduction = {
      ...grid,
      profiles: { ...profiles, quick: { ...profiles.quick, skip: { cells: ['*-b'], reason: 'B is slow.' } } },
      checks: [],
    };
    const cells = gridCells.map((c) => (c.column === 'b' ? { ...c, seeds: [] } : c));
    const markdown = renderMarkdown(summarizeResults(skipping, 'quick', [0, 1, 2], cells));
    expect(markdown).toContain('| 1k | 20.0 (med 20.0, 10.0–30.0) | 1.5 | skipped | 90 |');
    expect(markdown).toContain('- skipped in profile `quick`: B is slow.');
  });

  it('prints the median beside the mean: one seed of three that failed to generalize pulls the mean, not the median', () => {
    expect(spreadOf([99, 0, 97])).toEqual({ mean: 196 / 3, median: 97, min: 0, max: 99, n: 3 });
    expect(spreadOf([4, 1, 3, 10])!.median).toBe(3.5);
    expect(spreadOf([])).toBeNull();
    const entry = { row: 'r', column: 'c', metric: 'm', ours: spreadOf([99, 0, 97]), seeds: 3, missing: [], paper: null };
    expect(formatOurs(entry)).toBe('65.3 (med 97.0, 0.0–99.0)');
  });

  it('ranks with ties sharing the better rank and skips missing values', () => {
    expect(rankValues({ a: 5, b: 9, c: 5, d: null, e: 1 })).toEqual({ a: 2, b: 1, c: 2, d: null, e: 4 });
  });

  it('formats one seed without a range', () => {
    expect(
      formatOurs({
        row: 'r',
        column: 'c',
        metric: 'm',
        ours: { mean: 12.34, median: 12.34, min: 12.34, max: 12.34, n: 1 },
        seeds: 1,
        missing: [],
        paper: null,
      }),
    ).toBe('12.3');
    expect(formatOurs({ row: 'r', column: 'c', metric: 'm', ours: null, seeds: 2, missing: ['interrupted', 'missing'], paper: null })).toBe(
      'missing',
    );
  });
});
