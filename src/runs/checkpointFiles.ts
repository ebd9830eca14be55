import fs from 'node:fs';
import path from 'node:path';
import type { TrainStreamState } from '../data/dataset.ts';
import { checkpointName, checkpointsDir, MODEL_FILE, OPTIMIZER_FILE, STATE_FILE } from './paths.ts';
import type { MetricsRecord } from './records.ts';

/**
 * A checkpoint is a folder `checkpoints/step-000500/` in the run directory:
 *   model.safetensors      the parameters, by their names in `Gpt.params`
 *   optimizer.safetensors  AdamW moments `adam.m.<name>` and `adam.v.<name>`
 *   state.json             everything else a resumed run needs to continue exactly (TrainingState)
 * It is written into a temporary folder and renamed into place, so a folder named `step-*` is complete unless
 * the disk itself lost data; reading checks sizes and headers anyway and reports what is wrong. This module
 * handles the files as bytes; encoding the tensors is the caller's (experiments/checkpoint.ts).
 */
export const CHECKPOINT_FORMAT = 'arith-lab-checkpoint/1';
const TEMPORARY_PREFIX = '.partial-';

/** The non-tensor part of a checkpoint (state.json). */
export interface TrainingState {
  format: string;
  /** Optimizer steps completed; training continues at step + 1. */
  step: number;
  /** Position of the training-problem stream (generator state, epoch, cursor). */
  stream: TrainStreamState;
  /** AdamW's bias-correction step (equal to `step` in a run of this lab). */
  optimizer_step: number;
  /** Wall-clock training seconds so far, so `elapsed_s` continues. */
  train_seconds: number;
  /** Tokens and seconds since the last metrics line, for `tokens_per_s`. */
  window: { tokens: number; seconds: number };
  /** The last metrics.jsonl record written at or before `step`. */
  last_record: MetricsRecord | null;
  backend: string;
  written_at: string;
  /** Byte size of each tensor file, checked before reading it. */
  files: Record<string, number>;
}

/** What the training loop records in state.json; the rest is filled in when it is written. */
export type TrainingProgress = Omit<TrainingState, 'format' | 'step' | 'files' | 'written_at'>;

/** A checkpoint that cannot be used: truncated, corrupt, or not matching the run's config. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** Checkpoint folders of a run, newest first (by step, not by time). */
export function listCheckpoints(runDir: string): { step: number; dir: string }[] {
  const root = checkpointsDir(runDir);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .map((name) => ({ name, match: /^step-(\d+)$/.exec(name) }))
    .filter((entry) => entry.match !== null)
    .map((entry) => ({ step: Number(entry.match![1]), dir: path.join(root, entry.name) }))
    .sort((a, b) => b.step - a.step);
}

/** Writes and flushes to disk, so a checkpoint survives a power cut, not only a killed process. */
function writeDurably(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory (Windows); the rename is still atomic there.
  }
}

/**
 * Writes `checkpoints/step-NNNNNN/` atomically (temporary folder, then rename), replacing a folder of the same
 * step, then deletes all but the newest `keep` checkpoints. Returns the folder.
 */
export function writeCheckpointFiles(
  runDir: string,
  step: number,
  tensors: { model: Uint8Array; optimizer: Uint8Array },
  progress: TrainingProgress,
  keep: number,
): string {
  const root = checkpointsDir(runDir);
  fs.mkdirSync(root, { recursive: true });
  const finalDir = path.join(root, checkpointName(step));
  const temporary = path.join(root, `${TEMPORARY_PREFIX}${checkpointName(step)}-${process.pid}`);
  fs.rmSync(temporary, { recursive: true, force: true });
  fs.mkdirSync(temporary);
  writeDurably(path.join(temporary, MODEL_FILE), tensors.model);
  writeDurably(path.join(temporary, OPTIMIZER_FILE), tensors.optimizer);
  const state: TrainingState = {
    format: CHECKPOINT_FORMAT,
    step,
    ...progress,
    written_at: new Date().toISOString(),
    files: { [MODEL_FILE]: tensors.model.length, [OPTIMIZER_FILE]: tensors.optimizer.length },
  };
  writeDurably(path.join(temporary, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  syncDirectory(temporary);
  // A rename cannot replace a non-empty folder; the old copy of this step goes first (older steps stay valid).
  fs.rmSync(finalDir, { recursive: true, force: true });
  fs.renameSync(temporary, finalDir);
  syncDirectory(root);
  for (const old of listCheckpoints(runDir).slice(keep)) fs.rmSync(old.dir, { recursive: true, force: true });
  return finalDir;
}

/** Deletes temporary folders left by a write that was killed, and checkpoints past `step` (a resume point). */
export function cleanCheckpoints(runDir: string, afterStep: number): void {
  const root = checkpointsDir(runDir);
  if (!fs.existsSync(root)) return;
  for (const name of fs.readdirSync(root)) {
    if (name.startsWith(TEMPORARY_PREFIX)) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  for (const checkpoint of listCheckpoints(runDir)) {
    if (checkpoint.step > afterStep) fs.rmSync(checkpoint.dir, { recursive: true, force: true });
  }
}

/** Reads a checkpoint folder's state.json and checks that it is one of ours and names the folder's step. */
export function readTrainingState(dir: string): TrainingState {
  let state: TrainingState;
  try {
    state = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), 'utf8')) as TrainingState;
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CheckpointError(`${STATE_FILE}: ${code === 'ENOENT' ? 'missing' : `unreadable (${(error as Error).message})`}`);
  }
  if (state?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${STATE_FILE}: not an ${CHECKPOINT_FORMAT} checkpoint`);
  const match = /step-(\d+)$/.exec(dir);
  if (match && Number(match[1]) !== state.step)
    throw new CheckpointError(`${STATE_FILE}: says step ${state.step}, folder says ${Number(match[1])}`);
  return state;
}

/** The bytes of one tensor file of a checkpoint, after checking it has the size state.json recorded. */
export function readCheckpointFile(dir: string, file: string, state: TrainingState): Buffer {
  const full = path.join(dir, file);
  if (!fs.existsSync(full)) throw new CheckpointError(`${file}: missing`);
  const size = fs.statSync(full).size;
  if (size !== state.files?.[file])
    throw new CheckpointError(`${file}: ${size} bytes, ${STATE_FILE} recorded ${state.files?.[file]} (truncated?)`);
  return fs.readFileSync(full);
}
