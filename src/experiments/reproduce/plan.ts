import fs from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../../backends/select.ts';
import { applyOverrides, parseConfig } from '../../config/load.ts';
import { checkMemory } from '../../config/memoryEstimate.ts';
import { workEntry } from '../executors/work.ts';
import type { Config } from '../../config/schema.ts';
import { UserError } from '../../errors.ts';
import { flattenConfig } from '../../report/compare.ts';
import { expectedParameters, latestCheckpoint, openRun, optimizerLayout } from '../checkpoint.ts';
import {
  cellConfigInput,
  cellsOf,
  matchesPattern,
  type ProbeRequest,
  type ProfileName,
  type Reproduction,
  seedsOfColumn,
} from '../reproductions/reproduction.ts';
import { CONFIG_FILE, RUN_FILE } from '../../runs/paths.ts';
import { prepareExperiment } from '../../config/experiment.ts';
import { type Step, type Task, threadsPerChild } from '../executors/processPool.ts';
import { formatDuration } from '../../duration.ts';
import { ASSUMED_GPU_FLOPS, estimateGpuTime } from './gpuTime.ts';
import { probeDone, safeRunInfo } from './results.ts';
import type { Unit } from './unit.ts';

/**
 * What a reproduction has to do: its units (cells x seeds, each config validated, so a bad definition fails
 * before anything runs), what each unit's run directory holds now, and the commands that finish each one.
 */

export const REPRODUCE_DIR = 'reproduce';

export type UnitPlan =
  | { action: 'new' }
  | { action: 'finished' }
  | { action: 'failed'; message: string }
  | { action: 'resume'; step: number }
  | { action: 'restart'; reason: string };

export interface PlanOptions {
  profile?: ProfileName;
  /** Seeds 0..seeds-1 of every cell; default the profile's (per column where it says). */
  seeds?: number;
  /** Runs trained at once, each in its own process. */
  jobs?: number;
  /** Folder under which `reproduce/<name>/<profile>/` lives (default `runs`). */
  runsRoot?: string;
  /** Overrides every cell's `backend`. */
  backend?: BackendName;
  /** Start failed runs over (default: keep them; a diverged run diverges again, a crashed one may not). */
  retryFailed?: boolean;
  /**
   * `--set key.path=value` for every cell, after the profile: "the table, changing one thing". The runs go to
   * `<profile>+<overrides>/`, apart from the plain profile's.
   */
  overrides?: string[];
  /** Only cells whose id matches one of these patterns (`*` any characters): e.g. `n2k-*`, `*-reversed`. */
  only?: string[];
}

export interface ReproductionPlan {
  profile: ProfileName;
  /** `--seeds` when given, else undefined: each cell has its profile's count (seedsOfColumn). */
  seeds: number | undefined;
  jobs: number;
  probes: ProbeRequest[];
  overrides: string[];
  dir: string;
  /** Every unit of the table, also those outside --only (the table shows whatever has been trained). */
  allUnits: Unit[];
  /** The units --only selects (all without it). */
  units: Unit[];
  plans: Map<string, UnitPlan>;
  /** The selected units with something left to run, longest first. */
  work: Unit[];
}

export function experimentDir(runsRoot: string, name: string, profile: ProfileName, overrides: readonly string[] = []): string {
  const variant = overrides.map((o) => o.replace(/[^A-Za-z0-9._=,-]/g, '_')).join('+');
  return path.join(runsRoot, REPRODUCE_DIR, name, variant ? `${profile}+${variant}` : profile);
}

/** Config fields that say what a run computes: everything but the engine and its device (whose rounding differs slightly). */
function comparable(config: Config): Record<string, string> {
  const flat = flattenConfig(config as unknown as Record<string, unknown>);
  delete flat.backend;
  delete flat.device;
  return flat;
}

function differences(a: Config, b: Config): string[] {
  const [x, y] = [comparable(a), comparable(b)];
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((key) => x[key] !== y[key]);
}

/** What each run needs now (planUnit), keyed by id; with `retryFailed` a failed run starts over. */
export function planUnits(units: readonly { id: string; runDir: string; config: Config }[], retryFailed: boolean): Map<string, UnitPlan> {
  return new Map(
    units.map((unit): [string, UnitPlan] => {
      const plan = planUnit(unit.runDir, unit.config);
      return [unit.id, plan.action === 'failed' && retryFailed ? { action: 'restart', reason: `it failed: ${plan.message}` } : plan];
    }),
  );
}

/**
 * What to do with a unit's run directory. A finished run whose config differs from the definition's is an
 * error (it is never overwritten); an unfinished one with another config starts over.
 */
export function planUnit(runDir: string, config: Config): UnitPlan {
  if (!fs.existsSync(runDir) || fs.readdirSync(runDir).length === 0) return { action: 'new' };
  const hasFiles = [CONFIG_FILE, RUN_FILE].every((file) => fs.existsSync(path.join(runDir, file)));
  if (!hasFiles) return { action: 'restart', reason: 'no config.yaml or run.json' };
  let run: ReturnType<typeof openRun>;
  try {
    run = openRun(runDir);
  } catch (error) {
    const info = safeRunInfo(runDir);
    if (info?.status === 'finished') throw error;
    return { action: 'restart', reason: `unreadable (${(error as Error).message})` };
  }
  const changed = differences(run.config, config);
  if (run.info.status === 'finished') {
    if (changed.length > 0) {
      throw new UserError(
        `finished with a different config (${changed.slice(0, 4).join(', ')}${changed.length > 4 ? ', ...' : ''}); ` +
          'it is never overwritten: move it away, or use another --runs folder',
        { file: runDir },
      );
    }
    return { action: 'finished' };
  }
  if (changed.length > 0) return { action: 'restart', reason: `its config differs (${changed.slice(0, 4).join(', ')})` };
  if (run.info.status === 'failed') return { action: 'failed', message: run.info.message ?? 'failed' };
  try {
    const checkpoint = latestCheckpoint(runDir, expectedParameters(prepareExperiment(config).model), undefined, optimizerLayout(config));
    return checkpoint ? { action: 'resume', step: checkpoint.step } : { action: 'restart', reason: 'no checkpoint yet' };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { action: 'restart', reason: error.message };
  }
}

/**
 * Builds every unit's config (validated, so a bad definition fails before anything runs), except the cells the
 * profile skips.
 */
export function unitsOf(
  reproduction: Reproduction,
  profile: ProfileName,
  seeds: number | undefined,
  dir: string,
  backend?: BackendName,
  overrides: readonly string[] = [],
): Unit[] {
  const units: Unit[] = [];
  const skip = reproduction.profiles[profile].skip?.cells ?? [];
  for (const cell of cellsOf(reproduction)) {
    if (skip.some((pattern) => matchesPattern(pattern, cell.id))) continue;
    const count = seedsOfColumn(reproduction.profiles[profile], cell.column.id, seeds);
    for (let seed = 0; seed < count; seed++) {
      const raw = cellConfigInput(reproduction, profile, cell, seed);
      applyOverrides(raw, overrides);
      if (backend) raw.backend = backend;
      const id = `${cell.id}-seed${seed}`;
      const config = parseConfig(raw, `${reproduction.name} (${id}, profile ${profile})`);
      checkMemory(config, `${reproduction.name} (${id}, profile ${profile})`);
      units.push({ ...workEntry(dir, id), cell, seed, config });
    }
  }
  return units;
}

/**
 * Rough cost of a unit, to start the longest first: its FLOPs (layers, width and passes included; steps x batch
 * x length alone ranked a 1-layer run of 2,000 steps above 2-layer runs of 1,500 that take longer).
 */
function estimatedCost(unit: Unit): number {
  return estimateGpuTime(unit.config).flops;
}

/** Checks the options against the definition, builds the units and plans each one; reads, never writes. */
export function planReproduction(reproduction: Reproduction, options: PlanOptions = {}): ReproductionPlan {
  const profile = options.profile ?? 'quick';
  const chosen = reproduction.profiles[profile];
  if (!chosen) throw new UserError(`unknown profile "${profile}" (expected quick or paper)`, { field: '--profile' });
  const seeds = options.seeds;
  const jobs = options.jobs ?? 1;
  for (const [flag, value] of [
    ['--seeds', seeds ?? 1],
    ['--jobs', jobs],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new UserError(`expected a whole number of at least 1, got ${value}`, { field: flag });
  }
  const probes = chosen.probes ?? [];
  const overrides = options.overrides ?? [];
  const dir = experimentDir(options.runsRoot ?? 'runs', reproduction.name, profile, overrides);
  const allUnits = unitsOf(reproduction, profile, seeds, dir, options.backend, overrides);
  const only = options.only ?? [];
  const units = only.length ? allUnits.filter((unit) => only.some((pattern) => matchesPattern(pattern, unit.cell.id))) : allUnits;
  if (units.length === 0)
    throw new UserError(
      `no cell matches ${only.join(', ')} (cells: ${cellsOf(reproduction)
        .map((c) => c.id)
        .join(', ')})`,
      { field: '--only' },
    );
  const plans = planUnits(units, options.retryFailed === true);
  const needsProbes = (unit: Unit) => probes.some((request) => !probeDone(unit.runDir, request));
  // Longest runs first: with several jobs the last to finish is then a short one (results do not depend on order).
  const work = units
    .filter((unit) => {
      const action = plans.get(unit.id)!.action;
      return action === 'new' || action === 'resume' || action === 'restart' || (action === 'finished' && needsProbes(unit));
    })
    .sort((a, b) => estimatedCost(b) - estimatedCost(a));
  return { profile, seeds, jobs, probes, overrides, dir, allUnits, units, plans, work };
}

/** The plan in words: one summary line, and with `eachUnit` one line per selected unit. */
export function describePlan(reproduction: Reproduction, plan: ReproductionPlan, { eachUnit = false, slurm = false } = {}): string[] {
  const { units, allUnits } = plan;
  const count = (action: UnitPlan['action']) => units.filter((u) => plan.plans.get(u.id)!.action === action).length;
  const lines = [
    `${reproduction.name}, profile ${plan.profile}: ${reproduction.rows.entries.length * reproduction.columns.entries.length} cells x ${seedsText(reproduction, plan)} = ${allUnits.length} runs${units.length < allUnits.length ? ` (${units.length} selected by --only)` : ''} in ${plan.dir}: ${count('finished')} finished, ${count('resume')} to resume, ` +
      `${count('restart')} to start over, ${count('new')} new, ${count('failed')} failed${count('failed') ? ' (kept: --retry-failed starts them over)' : ''}; ${slurm ? 'as one Slurm job array' : `${plan.jobs} at a time`}, ${threadsLabel(threadsPerChild())} each`,
  ];
  if (eachUnit) {
    for (const unit of units) {
      const unitPlan = plan.plans.get(unit.id)!;
      const detail =
        unitPlan.action === 'resume'
          ? ` from step ${unitPlan.step}`
          : unitPlan.action === 'restart'
            ? `: ${unitPlan.reason}`
            : unitPlan.action === 'failed'
              ? `: ${unitPlan.message}`
              : '';
      lines.push(`  ${unit.id}: ${unitPlan.action}${detail}`);
    }
    if (plan.profile === 'paper') lines.push(...gpuTimeLines(plan.units));
  }
  return lines;
}

/** `3 seeds`, or `1 seed (abacus-lab: 3)` when the profile gives some columns more. */
function seedsText(reproduction: Reproduction, plan: ReproductionPlan): string {
  const seeds = (n: number) => `${n} seed${n === 1 ? '' : 's'}`;
  const profile = reproduction.profiles[plan.profile];
  if (plan.seeds !== undefined) return seeds(plan.seeds);
  const others = Object.entries(profile.seedsByColumn ?? {})
    .filter(([column, n]) => n !== profile.seeds && reproduction.columns.entries.some((c) => c.id === column))
    .map(([column, n]) => `${column}: ${n}`);
  return others.length ? `${seeds(profile.seeds)} (${others.join(', ')})` : seeds(profile.seeds);
}

const threadsLabel = (threads: number) => `${threads} torch thread${threads === 1 ? '' : 's'} (ARITH_THREADS)`;

/** The estimated GPU time of one run of each cell (seeds cost the same), and of all the selected runs. */
function gpuTimeLines(units: readonly Unit[]): string[] {
  const lines = [
    `estimated GPU time per run (not measured: training and evaluation FLOPs at an assumed ${ASSUMED_GPU_FLOPS / 1e12} TFLOP/s ` +
      'float32; small models, bound by kernel launches, take longer; src/experiments/reproduce/gpuTime.ts):',
  ];
  let total = 0;
  const seen = new Set<string>();
  for (const unit of units) {
    const { flops, seconds } = estimateGpuTime(unit.config);
    total += seconds;
    if (seen.has(unit.cell.id)) continue;
    seen.add(unit.cell.id);
    lines.push(`  ${unit.cell.id}: ${formatDuration(seconds)} (${flops.toExponential(1)} FLOPs)`);
  }
  lines.push(`  all ${units.length} runs: ${formatDuration(total)} of GPU time`);
  return lines;
}

/**
 * The commands that finish a unit of `work`: its training (new, resumed or started over) unless it has finished,
 * then each probe of the profile not yet done for the run's final step.
 */
export function taskOf(unit: Unit, plan: ReproductionPlan): Task {
  const unitPlan = plan.plans.get(unit.id)!;
  const steps: Step[] = [];
  if (unitPlan.action !== 'finished') {
    const args =
      unitPlan.action === 'resume'
        ? ['train', '--resume', unit.runDir]
        : ['train', '--config', unit.configFile, '--run-dir', unit.runDir, ...(unitPlan.action === 'restart' ? ['--overwrite'] : [])];
    steps.push({ name: 'train', args });
  }
  for (const request of plan.probes) {
    const args = ['probe', unit.runDir, '--probe', request.name, '--samples', String(request.samples)];
    if (request.maxDigits !== undefined) args.push('--max-digits', String(request.maxDigits));
    steps.push({ name: `probe ${request.name}`, args, needed: () => !probeDone(unit.runDir, request) });
  }
  return { id: unit.id, logFile: unit.logFile, steps };
}
