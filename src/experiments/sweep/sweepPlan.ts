import path from 'node:path';
import type { BackendName } from '../../backends/select.ts';
import { applyOverrides, parseConfig, readConfigFile } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';
import { UserError } from '../../errors.ts';
import { flattenConfig } from '../../report/compare.ts';
import { readJsonOrNull } from '../../runs/jsonFiles.ts';
import { planUnits, type UnitPlan } from '../reproduce/plan.ts';
import { type GridAxis, type GridCell, gridCells, parseGrid } from './grid.ts';
import { checkMemory } from '../../config/memoryEstimate.ts';
import { workEntry } from '../executors/work.ts';

/**
 * What a sweep has to do: every cell of the grid x every seed as a resolved, validated config (a bad value fails
 * before anything runs, named by its cell), and what each run directory holds now.
 */

export const SWEEPS_DIR = 'sweeps';
export const DEFINITION_FILE = 'sweep.json';

export interface SweepOptions {
  /** The base config file. */
  config: string;
  /** `--grid field=v1,v2` arguments. */
  grid?: string[];
  /** `--set` overrides for every cell, before the grid. */
  overrides?: string[];
  /** Seeds 0..seeds-1 per cell (default 1). */
  seeds?: number;
  /** Folder name under `<runsRoot>/sweeps/`; default the config's name. */
  name?: string;
  runsRoot?: string;
  /** Overrides every cell's `backend`. */
  backend?: BackendName;
  /** Start failed runs over. */
  retryFailed?: boolean;
}

/** One training run of a sweep: a cell and a seed. */
export interface SweepUnit {
  /** `<cell>-seed<k>`: also its run directory's, config's and log's name. */
  id: string;
  cell: GridCell;
  seed: number;
  config: Config;
  runDir: string;
  configFile: string;
  logFile: string;
}

/** What identifies a sweep: re-running with another definition is an error, not a silent mix. */
export interface SweepDefinition {
  config: Record<string, unknown>;
  set: string[];
  grid: { field: string; values: string[] }[];
}

export interface SweepPlan {
  name: string;
  dir: string;
  seeds: number;
  axes: GridAxis[];
  definition: SweepDefinition;
  units: SweepUnit[];
  plans: Map<string, UnitPlan>;
  /** Units with training left to do. */
  work: SweepUnit[];
}

function checkDefinition(dir: string, definition: SweepDefinition): void {
  const file = path.join(dir, DEFINITION_FILE);
  const before = readJsonOrNull<SweepDefinition>(file);
  if (before === null) return;
  const changed = (['config', 'set', 'grid'] as const).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(definition[key]));
  if (changed.length > 0) {
    const what = changed.map((key) => (key === 'config' ? 'the config' : `--${key}`)).join(', ');
    throw new UserError(`this sweep was defined differently (${what} changed); run it as before, or give the new one another --name`, {
      file,
    });
  }
}

/** Reads the config, builds and validates every unit and plans each; reads, never writes. */
export function planSweep(options: SweepOptions): SweepPlan {
  const seeds = options.seeds ?? 1;
  if (!Number.isInteger(seeds) || seeds < 1)
    throw new UserError(`expected a whole number of at least 1, got ${seeds}`, { field: '--seeds' });
  const raw = readConfigFile(options.config);
  const overrides = options.overrides ?? [];
  applyOverrides(raw, overrides);
  const name = options.name ?? (typeof raw.name === 'string' ? raw.name : path.basename(options.config).replace(/\.ya?ml$/i, ''));
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new UserError(`"${name}" cannot name a folder (letters, digits, . _ - only)`, { field: '--name' });
  }
  const base = parseConfig({ ...raw, name }, options.config);
  const axes = parseGrid(options.grid ?? [], Object.keys(flattenConfig(base as unknown as Record<string, unknown>)));
  const dir = path.join(options.runsRoot ?? 'runs', SWEEPS_DIR, name);
  const definition: SweepDefinition = { config: raw, set: overrides, grid: axes.map((a) => ({ field: a.field, values: a.texts })) };
  checkDefinition(dir, definition);
  const units: SweepUnit[] = [];
  for (const cell of gridCells(axes)) {
    for (let seed = 0; seed < seeds; seed++) {
      const id = `${cell.id}-seed${seed}`;
      const input = structuredClone(raw);
      applyOverrides(input, cell.overrides);
      Object.assign(input, { name: `${name}-${id}`, seed });
      if (options.backend) input.backend = options.backend;
      const config = parseConfig(input, `sweep ${name}, cell ${cell.id}`);
      checkMemory(config, `sweep ${name}, cell ${cell.id}`);
      units.push({ ...workEntry(dir, id), cell, seed, config });
    }
  }
  const plans = planUnits(units, options.retryFailed === true);
  const work = units.filter((unit) => ['new', 'resume', 'restart'].includes(plans.get(unit.id)!.action));
  return { name, dir, seeds, axes, definition, units, plans, work };
}

/** One summary line. */
export function describeSweepPlan(plan: SweepPlan): string {
  const count = (action: UnitPlan['action']) => plan.units.filter((u) => plan.plans.get(u.id)!.action === action).length;
  const cells = plan.units.length / plan.seeds;
  const failed = count('failed');
  return (
    `sweep ${plan.name}: ${cells} cell${cells === 1 ? '' : 's'} x ${plan.seeds} seed${plan.seeds === 1 ? '' : 's'} = ${plan.units.length} runs ` +
    `in ${plan.dir}: ${count('finished')} finished, ${count('resume')} to resume, ${count('restart')} to start over, ${count('new')} new, ` +
    `${failed} failed${failed ? ' (kept: --retry-failed starts them over)' : ''}`
  );
}
