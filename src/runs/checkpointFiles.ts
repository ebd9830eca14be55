import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { TrainStreamState } from '../data/dataset.ts';
import { checkpointName, checkpointsDir, CHECKSUMS_FILE, MODEL_FILE, OPTIMIZER_FILE, STATE_FILE } from './paths.ts';
import type { MetricsRecord } from './records.ts';

/**
 * A checkpoint is a folder `checkpoints/step-000500/` in the run directory:
 *   model.safetensors      the parameters, by their names in `Gpt.params`
 *   optimizer.safetensors  AdamW moments `adam.m.<name>` and `adam.v.<name>`
 *   state.json             everything else a resumed run needs to continue exactly (TrainingState)
 *   checksums.sha256       SHA-256 of the three files above, as `sha256sum` writes it
 * It is written into a temporary folder and renamed into place, so a folder named `step-*` is complete unless
 * the disk itself lost data or someone changed it; reading checks the checksums, sizes and headers and reports
 * what is wrong. A checkpoint written before checksums existed has no checksums.sha256: its checksums are "not
 * recorded", not wrong. A write that fails (a full disk) removes its temporary folder. This module handles the
 * files as bytes; encoding the tensors is the caller's (experiments/checkpoint.ts).
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
  /** SHA-256 (hex) of each tensor file; absent in checkpoints written before checksums existed. */
  sha256?: Record<string, string>;
}

/** What state.json must hold for a resume to use it (it is read back from disk, so it is checked, not trusted). */
const count = z.number().int().nonnegative();
const STATE_SCHEMA = z.looseObject({
  step: count,
  stream: z.looseObject({ random: z.looseObject({}), cursor: count, epoch: count }),
  optimizer_step: count,
  train_seconds: z.number().nonnegative(),
  window: z.looseObject({ tokens: z.number().nonnegative(), seconds: z.number().nonnegative() }),
  last_record: z.looseObject({ step: count }).nullable(),
  backend: z.string(),
  files: z.record(z.string(), count),
  sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)).optional(),
});

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** What the training loop records in state.json; the rest is filled in when it is written. */
export type TrainingProgress = Omit<TrainingState, 'format' | 'step' | 'files' | 'sha256' | 'written_at'>;

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
  } catch (error) {
    // A write through a descriptor names no file; the message about a full disk should.
    throw Object.assign(error as Error, { path: (error as { path?: string }).path ?? file });
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
 * step, then deletes all but the newest `keep` checkpoints and those at the `pinned` steps. Returns the folder.
 */
export function writeCheckpointFiles(
  runDir: string,
  step: number,
  tensors: { model: Uint8Array; optimizer: Uint8Array },
  progress: TrainingProgress,
  keep: number,
  pinned: readonly number[] = [],
): string {
  const root = checkpointsDir(runDir);
  fs.mkdirSync(root, { recursive: true });
  const finalDir = path.join(root, checkpointName(step));
  const temporary = path.join(root, `${TEMPORARY_PREFIX}${checkpointName(step)}-${process.pid}`);
  fs.rmSync(temporary, { recursive: true, force: true });
  fs.mkdirSync(temporary);
  try {
    const state: TrainingState = {
      format: CHECKPOINT_FORMAT,
      step,
      ...progress,
      written_at: new Date().toISOString(),
      files: { [MODEL_FILE]: tensors.model.length, [OPTIMIZER_FILE]: tensors.optimizer.length },
      sha256: { [MODEL_FILE]: sha256(tensors.model), [OPTIMIZER_FILE]: sha256(tensors.optimizer) },
    };
    const stateText = JSON.stringify(state, null, 2) + '\n';
    writeDurably(path.join(temporary, MODEL_FILE), tensors.model);
    writeDurably(path.join(temporary, OPTIMIZER_FILE), tensors.optimizer);
    writeDurably(path.join(temporary, STATE_FILE), stateText);
    const sums: [string, string][] = [...Object.entries(state.sha256!), [STATE_FILE, sha256(stateText)]];
    writeDurably(path.join(temporary, CHECKSUMS_FILE), sums.map(([file, sum]) => `${sum}  ${file}\n`).join(''));
    syncDirectory(temporary);
  } catch (error) {
    // A full disk: no half-written folder stays behind; the complete checkpoints are untouched.
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  // A rename cannot replace a non-empty folder; the old copy of this step goes first (older steps stay valid).
  fs.rmSync(finalDir, { recursive: true, force: true });
  fs.renameSync(temporary, finalDir);
  syncDirectory(root);
  const prunable = listCheckpoints(runDir).filter((checkpoint) => !pinned.includes(checkpoint.step));
  for (const old of prunable.slice(keep)) fs.rmSync(old.dir, { recursive: true, force: true });
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

/**
 * The checksums in a checkpoint's checksums.sha256, by file; null when it has none (written before checksums
 * existed). A file that is there but unreadable or malformed is a CheckpointError.
 */
function readChecksums(dir: string): Map<string, string> | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, CHECKSUMS_FILE), 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return null;
    throw new CheckpointError(`${CHECKSUMS_FILE}: unreadable (${(error as Error).message})`);
  }
  const sums = new Map<string, string>();
  for (const line of text.split('\n').filter((l) => l !== '')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) throw new CheckpointError(`${CHECKSUMS_FILE}: malformed line "${line.slice(0, 80)}"`);
    sums.set(match[2], match[1]);
  }
  return sums;
}

/** Throws unless `data` has the checksum recorded for `file` (when one is recorded). */
function verifyChecksum(file: string, data: string | Uint8Array, expected: string | undefined): void {
  if (expected !== undefined && sha256(data) !== expected)
    throw new CheckpointError(`${file}: checksum mismatch (its bytes changed after the checkpoint was written)`);
}

/**
 * Reads a checkpoint folder's state.json and checks that it is one of ours, unchanged since it was written (its
 * checksum), well-formed, and names the folder's step.
 */
export function readTrainingState(dir: string): TrainingState {
  let state: TrainingState;
  try {
    const text = fs.readFileSync(path.join(dir, STATE_FILE), 'utf8');
    state = JSON.parse(text) as TrainingState;
    const sums = readChecksums(dir);
    verifyChecksum(STATE_FILE, text, sums?.get(STATE_FILE));
    // Checksums recorded in state.json need checksums.sha256 (which covers state.json itself) beside them.
    if (state?.sha256 !== undefined && (sums === null || !sums.has(STATE_FILE)))
      throw new CheckpointError(`${CHECKSUMS_FILE}: missing, or without ${STATE_FILE}`);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    const code = (error as { code?: string }).code;
    throw new CheckpointError(`${STATE_FILE}: ${code === 'ENOENT' ? 'missing' : `unreadable (${(error as Error).message})`}`);
  }
  if (state?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${STATE_FILE}: not an ${CHECKPOINT_FORMAT} checkpoint`);
  const parsed = STATE_SCHEMA.safeParse(state);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(`${STATE_FILE}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const match = /step-(\d+)$/.exec(dir);
  if (match && Number(match[1]) !== state.step)
    throw new CheckpointError(`${STATE_FILE}: says step ${state.step}, folder says ${Number(match[1])}`);
  return state;
}

/**
 * The bytes of one tensor file of a checkpoint, after checking it has the size and (where recorded) the
 * checksum state.json holds for it.
 */
export function readCheckpointFile(dir: string, file: string, state: TrainingState): Buffer {
  const full = path.join(dir, file);
  if (!fs.existsSync(full)) throw new CheckpointError(`${file}: missing`);
  const size = fs.statSync(full).size;
  if (size !== state.files?.[file])
    throw new CheckpointError(`${file}: ${size} bytes, ${STATE_FILE} recorded ${state.files?.[file]} (truncated?)`);
  const bytes = fs.readFileSync(full);
  verifyChecksum(file, bytes, state.sha256?.[file]);
  return bytes;
}
