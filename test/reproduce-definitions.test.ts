import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unitsOf } from '../src/experiments/reproduce/plan.ts';
import { REPRODUCTIONS } from '../src/experiments/reproductions/index.ts';
import {
  cellsOf,
  matchesPattern,
  mergePatch,
  paperKey,
  paperPoint,
  PROFILE_NAMES,
  type FinishedRun,
} from '../src/experiments/reproductions/reproduction.ts';
import { longestSequence } from '../src/config/dataSetup.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import type { RunInfo } from '../src/runs/records.ts';

/** Every registered experiment is well-formed data: valid configs, unique cells, the paper's numbers. */
describe('reproduction definitions', () => {
  it('include the tables of issues 7, 17 and 18, each defined in its own file', () => {
    expect(Object.keys(REPRODUCTIONS).sort()).toEqual([
      'bai2025-multiplication',
      'cho2024-coupling',
      'kazemnejad2023-pe',
      'lee2023-sample-efficiency',
      'mcleish2024-abacus',
    ]);
    for (const name of Object.keys(REPRODUCTIONS)) {
      expect(fs.existsSync(`src/experiments/reproductions/${name}.ts`)).toBe(true);
      expect(REPRODUCTIONS[name].name).toBe(name);
    }
  });

  for (const reproduction of Object.values(REPRODUCTIONS)) {
    describe(reproduction.name, () => {
      const cells = cellsOf(reproduction);

      it('has unique cell ids that are safe in file names, and unique row and column ids', () => {
        expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
        for (const cell of cells) expect(cell.id).toMatch(/^[a-z0-9-]+$/);
        for (const axis of [reproduction.rows, reproduction.columns]) {
          expect(new Set(axis.entries.map((e) => e.id)).size).toBe(axis.entries.length);
        }
      });

      it("has the paper's number (or an explicit n/a with its reason) for every cell and metric", () => {
        for (const cell of cells) {
          for (const metric of reproduction.metrics) {
            const paper = reproduction.paper[paperKey(cell.row.id, cell.column.id, metric.id)];
            expect(paper, `${cell.id} ${metric.id}`).toBeDefined();
            expect(paper.text.length).toBeGreaterThan(0);
            expect(paper.source.length).toBeGreaterThan(0);
            if (paper.text !== 'n/a') expect(paperPoint(paper)).not.toBeNull();
          }
        }
        const keys = new Set(cells.flatMap((c) => reproduction.metrics.map((m) => paperKey(c.row.id, c.column.id, m.id))));
        for (const key of Object.keys(reproduction.paper)) expect(keys.has(key), key).toBe(true);
      });

      for (const profile of PROFILE_NAMES) {
        it(`builds a valid config for every cell in the ${profile} profile, with the cell's and the profile's overrides`, () => {
          const units = unitsOf(reproduction, profile, 2, '/tmp/nowhere');
          const chosen = reproduction.profiles[profile];
          const skipped = cells.filter((c) => chosen.skip?.cells.some((pattern) => matchesPattern(pattern, c.id)));
          if (chosen.skip) {
            expect(skipped.length).toBeGreaterThan(0);
            expect(chosen.skip.reason.length).toBeGreaterThan(40);
          }
          expect(units.length).toBe(2 * (cells.length - skipped.length));
          expect(chosen.description.length).toBeGreaterThan(40);
          for (const unit of units) {
            expect(unit.config.name).toBe(`${unit.cell.id}-seed${unit.seed}`);
            expect(unit.runDir).toBe(`/tmp/nowhere/${unit.cell.id}-seed${unit.seed}`);
            // The profile has the last word, then its per-column and per-row patches.
            const expected = mergePatch(
              mergePatch(mergePatch(mergePatch({}, unit.cell.column.overrides), unit.cell.row.overrides), chosen.overrides),
              chosen.byColumn?.[unit.cell.column.id],
            );
            mergePatch(expected, chosen.byRow?.[unit.cell.row.id]);
            for (const [section, fields] of Object.entries(expected)) {
              for (const [field, value] of Object.entries(fields as object)) {
                expect((unit.config as any)[section][field], `${unit.id} ${section}.${field}`).toEqual(value);
              }
            }
          }
          expect(new Set(units.map((u) => u.seed))).toEqual(new Set([0, 1]));
        });
      }

      for (const profile of PROFILE_NAMES) {
        it(`gives each cell of the ${profile} profile its column's seeds unless --seeds says otherwise`, () => {
          const chosen = reproduction.profiles[profile];
          for (const [column, count] of Object.entries(chosen.seedsByColumn ?? {})) {
            expect(reproduction.columns.entries.map((c) => c.id)).toContain(column);
            expect(Number.isInteger(count) && count >= 1, `${column}: ${count} seeds`).toBe(true);
          }
          const units = unitsOf(reproduction, profile, undefined, '/tmp/nowhere');
          for (const cell of cells) {
            if (chosen.skip?.cells.some((pattern) => matchesPattern(pattern, cell.id))) continue;
            const seeds = units.filter((u) => u.cell.id === cell.id).map((u) => u.seed);
            const count = chosen.seedsByColumn?.[cell.column.id] ?? chosen.seeds;
            expect(seeds, cell.id).toEqual(Array.from({ length: count }, (_, i) => i));
          }
        });
      }

      it('reads its metrics from a finished run as percentages', () => {
        const info = {
          status: 'finished',
          result: {
            accuracy: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [String(i + 1), 0.5])),
            accuracy_in_range: 0.25,
            accuracy_beyond: 0.125,
          },
        } as unknown as RunInfo;
        // Probe-based metrics (per-digit accuracy, linear-probe R²) read these, at 50 % everywhere.
        const probes = {
          digits: {
            lengths: [4, 12].map((digits) => ({
              digits,
              inTrainingRange: digits === 4,
              positions: Array.from({ length: 2 * digits }, (_, position) => ({ position, count: 2, correct: 1, accuracy: 0.5 })),
            })),
          },
          linear: {
            scores: ['embed', 'blocks.0.resid_post', 'blocks.1.resid_post'].map((activation) => ({
              quantity: 'running_sum',
              activation,
              score: 0.5,
            })),
          },
          length: { summary: { diagonalInRange: 0.5, diagonalBeyond: 0.5, gridInRange: 0.5, gridBeyond: 0.5 } },
        };
        const config = unitsOf(reproduction, 'quick', 1, 'x')[0].config;
        const run: FinishedRun = { info, config, probes };
        for (const metric of reproduction.metrics) {
          const value = metric.read(run);
          expect(value).not.toBeNull();
          expect([50, 25, 12.5]).toContain(value);
        }
      });
    });
  }

  it("Lee: rows are fixed training sets of 1k-20k balanced problems, tested on 3 digits; Lee's model in the paper profile", () => {
    const lee = REPRODUCTIONS['lee2023-sample-efficiency'];
    const paper = unitsOf(lee, 'paper', 1, 'x');
    expect([...new Set(paper.map((u) => u.config.task.train_size))]).toEqual([1000, 2000, 3000, 4000, 5000, 10000, 20000]);
    expect([...new Set(paper.map((u) => u.config.format.name))]).toEqual(['plain', 'reversed', 'scratchpad-simple', 'scratchpad-detailed']);
    for (const unit of paper) {
      expect(unit.config.task.sampling).toBe('balanced');
      expect(unit.config.task.test_digits).toEqual([3, 3]);
      expect(unit.config.task.test_size).toBe(10000);
      expect(unit.config.model).toMatchObject({ layers: 6, heads: 6, d_model: 384, dropout: 0.2 });
      expect(unit.config.train.steps).toBe(unit.config.format.name.startsWith('scratchpad') ? 20000 : 5000);
    }
    const quick = unitsOf(lee, 'quick', 1, 'x');
    for (const unit of quick) expect(unit.config.model.d_model).toBe(64);
    expect(quick.find((u) => u.id === 'n1k-scratchpad-simple-seed0')!.config.train).toMatchObject({ steps: 1200, batch: 32 });
    // The quick profile leaves out the detailed scratchpad (too slow on a CPU), and says why in the table.
    expect(quick.map((u) => u.config.format.name)).not.toContain('scratchpad-detailed');
    expect(quick).toHaveLength(21);
  });

  it('Kazemnejad: trains on 1-8 digits (quick padded to 8, paper unpadded), tests 1-16 as longer sequences the model (and a learned table) can hold', () => {
    const kazemnejad = REPRODUCTIONS['kazemnejad2023-pe'];
    for (const profile of PROFILE_NAMES) {
      const units = unitsOf(kazemnejad, profile, 1, 'x');
      expect(units.map((u) => u.config.model.pos)).toEqual(['nope', 'ape', 'sinusoidal', 'rope', 'alibi', 't5']);
      for (const unit of units) {
        expect(unit.config.task.train_digits).toEqual([1, 8]);
        expect(unit.config.task.test_digits).toEqual([1, 16]);
        const padded = profile === 'quick';
        expect(unit.config.format).toEqual(
          padded ? { name: 'reversed-padded', pad_width: 8, pad_extra: 0 } : { name: 'reversed', pad_width: null, pad_extra: 0 },
        );
        const experiment = prepareExperiment(unit.config);
        // Longer tests are longer sequences: padding does not hide the length.
        expect(longestSequence(experiment, 16)).toBeGreaterThan(longestSequence(experiment, 8));
        expect(longestSequence(experiment, 16)).toBeLessThanOrEqual(unit.config.model.max_len);
        // Padded, every training problem has one layout; unpadded, shorter problems are shorter sequences.
        expect(longestSequence(experiment, 3) === longestSequence(experiment, 8)).toBe(padded);
      }
    }
  });

  it('matches cell patterns with * only', () => {
    expect(matchesPattern('*-scratchpad-detailed', 'n1k-scratchpad-detailed')).toBe(true);
    expect(matchesPattern('n1k-*', 'n10k-plain')).toBe(false);
    expect(matchesPattern('n1k.plain', 'n1k-plain')).toBe(false);
    expect(matchesPattern('ape', 'ape')).toBe(true);
  });

  it('merges patches section by section, arrays replaced', () => {
    const target = { task: { train_digits: [1, 3], op: 'add' }, train: { steps: 5 } };
    mergePatch(target, { task: { train_digits: [2, 4] }, train: { batch: 8 } });
    expect(target).toEqual({ task: { train_digits: [2, 4], op: 'add' }, train: { steps: 5, batch: 8 } });
  });
});
