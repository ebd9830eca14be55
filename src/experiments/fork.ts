import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { prepareExperiment } from '../config/experiment.ts';
import { UserError } from '../errors.ts';
import { flattenConfig } from '../report/compare.ts';
import { CheckpointError, listCheckpoints } from '../runs/checkpointFiles.ts';
import { configHash } from '../runs/configHash.ts';
import { truncateJsonLines } from '../runs/jsonFiles.ts';
import { CONFIG_FILE, LENGTH_BY_STEP_FILE, checkpointsDir, metricsFile, probesDir } from '../runs/paths.ts';
import { writeResolvedConfig, writeRunInfo } from '../runs/runDirectory.ts';
import {
  checkConfigUnchanged,
  expectedParameters,
  openRun,
  optimizerLayout,
  readCheckpoint,
  type Checkpoint,
  type RunFiles,
} from './checkpoint.ts';

/**
 * Fields a fork keeps from its parent: the checkpoint's weights were trained with them (the model, its
 * vocabulary and format, the seed that drew the held-out problems and the first steps' data). Everything else,
 * the schedule, the data of the steps still to come, the evaluation, may change.
 */
const INHERITED = [/^seed$/, /^model\./, /^format\./, /^task\.op$/, /^task\.train_size$/];

/** Where `train --fork` starts: the parent run, the child's config and the parent's checkpoint it continues. */
export interface ForkPoint {
  parent: RunFiles;
  config: Config;
  checkpoint: Checkpoint;
}

/**
 * Checks a fork before anything is written: the parent is a run whose config.yaml is intact, `overrides` (as
 * --set) change none of the inherited fields, the parent has a usable checkpoint at `step` (default its newest),
 * the child's config can load it, and the child trains past it.
 */
export function prepareFork(parentDir: string, step: number | undefined, overrides: readonly string[]): ForkPoint {
  const parent = openRun(parentDir);
  checkConfigUnchanged(parent);
  const config = loadConfig(path.join(parentDir, CONFIG_FILE), overrides);
  const [before, now] = [flattenConfig(parent.config as never), flattenConfig(config as never)];
  for (const key of new Set([...Object.keys(before), ...Object.keys(now)])) {
    if (INHERITED.some((pattern) => pattern.test(key)) && before[key] !== now[key]) {
      throw new UserError(
        `a fork keeps its parent's ${key} (${before[key] ?? '(unset)'}): the checkpoint was trained with it; start a new run with --config to change it`,
        { field: `--set ${key}` },
      );
    }
  }
  const available = listCheckpoints(parentDir);
  const chosen = step === undefined ? available[0] : available.find((c) => c.step === step);
  if (!chosen) {
    const steps = available.map((c) => c.step).sort((a, b) => a - b);
    const what = step === undefined ? 'the run has no checkpoint' : `no checkpoint at step ${step}`;
    throw new UserError(`${what} (available: ${steps.join(', ') || 'none'})`, { field: step === undefined ? '--fork' : '--at' });
  }
  if (config.train.steps <= chosen.step) {
    throw new UserError(`is ${config.train.steps}; a fork from step ${chosen.step} must train past it`, { field: 'train.steps' });
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = readCheckpoint(chosen.dir, expectedParameters(prepareExperiment(config).model), optimizerLayout(config));
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    throw new UserError(`cannot be continued with the forked config: ${error.message}`, { file: chosen.dir });
  }
  return { parent, config, checkpoint };
}

/**
 * Writes the fork's history into its new, empty run directory: the config, the parent's metrics and
 * during-training probe lines up to the checkpoint, the checkpoint itself, and a run.json that records the
 * parent (`forked_from`) and carries its training seconds, so the fork's time is the time from step 0. Returns
 * the copied checkpoint, which `train` resumes from.
 */
export function writeFork(runDir: string, fork: ForkPoint): Checkpoint {
  const { parent, config, checkpoint } = fork;
  writeResolvedConfig(runDir, config);
  const copyHistory = (from: string, to: string) => {
    if (!fs.existsSync(from)) return;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    truncateJsonLines(to, checkpoint.step);
  };
  copyHistory(metricsFile(parent.runDir), metricsFile(runDir));
  copyHistory(path.join(probesDir(parent.runDir), LENGTH_BY_STEP_FILE), path.join(probesDir(runDir), LENGTH_BY_STEP_FILE));
  const dir = path.join(checkpointsDir(runDir), path.basename(checkpoint.dir));
  fs.cpSync(checkpoint.dir, dir, { recursive: true });
  const { status: _status, message: _message, finished_at: _finished, result: _result, resumes: _resumes, ...kept } = parent.info;
  writeRunInfo(runDir, {
    ...kept,
    status: 'interrupted',
    started_at: new Date().toISOString(),
    config_sha256: configHash(config),
    step: checkpoint.step,
    train_seconds: Number(checkpoint.state.train_seconds.toFixed(1)),
    checkpoint: { step: checkpoint.step, dir: path.relative(runDir, dir) },
    forked_from: { run: parent.runDir, step: checkpoint.step, config_sha256: parent.info.config_sha256 ?? null },
    message: `forked from ${parent.runDir} at step ${checkpoint.step}`,
  });
  return { ...checkpoint, dir };
}
