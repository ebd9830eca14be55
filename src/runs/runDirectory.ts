import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { describeFileError, errorCode, isDiskFull } from './fileErrors.ts';
import { readJson, writeFileAtomic } from './jsonFiles.ts';
import { acquireLock } from './lock.ts';
import { makeDirectory } from './makeDirectory.ts';
import { CHECKPOINTS_DIR, CONFIG_FILE, METRICS_FILE, PROBES_DIR, REPORT_FILE, RUN_FILE, RUN_LOCK_FILE } from './paths.ts';
import type { RunInfo } from './records.ts';

/** Local time as `20261126-101500`, for run and page names that sort by time. */
export function timestamp(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** A run directory this process created (or emptied) and holds the lock of. */
export interface RunDirectory {
  dir: string;
  /** Releases the lock (it is also released when the process exits). */
  release: () => void;
  /** With `overwrite`: what was removed of the run that was there (empty when there was none). */
  removed: string[];
  /** The folder did not exist before (so a run that fails before writing anything may remove it). */
  created: boolean;
}

/** Takes the run directory's lock for this process: a second train (or resume) of it is refused, naming this one. */
export function lockRunDir(dir: string): () => void {
  return acquireLock(path.join(dir, RUN_LOCK_FILE), 'train');
}

/**
 * Chooses and creates the run directory and locks it. Without `explicit`, `root/<name>-<time>` with a counter
 * appended if that exists; an explicit directory must be new or empty, or with `overwrite` hold a run of this lab
 * and nothing else (that run is removed). Never clobbers anything else. A folder that cannot be created (a full
 * disk, a read-only or special file system, a name too long) is a UserError.
 */
export function createRunDir(options: { root: string; name: string; explicit?: string; overwrite?: boolean }): RunDirectory {
  const field = options.explicit !== undefined ? '--run-dir' : '--runs';
  try {
    return options.explicit !== undefined
      ? createExplicit(options.explicit, options.overwrite === true)
      : createNamed(options.root, options.name);
  } catch (error) {
    const problem = describeFileError(error);
    if (error instanceof UserError || problem === null) throw error;
    const where = (error as { path?: string }).path ?? options.explicit ?? options.root;
    if (errorCode(error) === 'ENAMETOOLONG' && options.explicit === undefined) {
      throw new UserError(`cannot create the run directory: ${problem}; shorten the config's name or pass --run-dir`, {
        file: where,
        field: 'name',
      });
    }
    throw new UserError(`cannot create the run directory: ${problem}`, { file: where, field });
  }
}

function createExplicit(dir: string, overwrite: boolean): RunDirectory {
  const where = { file: dir, field: '--run-dir' };
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UserError('exists and is not a directory', where);
  const occupied = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => !isLockEntry(name)) : []);
  if (occupied().length > 0 && !overwrite) {
    // A run being trained here is named (its lock); anything else is refused without touching the folder.
    if (fs.existsSync(path.join(dir, RUN_LOCK_FILE))) lockRunDir(dir)();
    throw new UserError('run directory exists and is not empty (pass --overwrite to replace it, or --resume to continue it)', where);
  }
  const created = !fs.existsSync(dir);
  makeDirectory(dir);
  const release = lockRunDir(dir);
  try {
    const entries = occupied();
    if (entries.length > 0 && !overwrite) {
      throw new UserError('run directory exists and is not empty (pass --overwrite to replace it, or --resume to continue it)', where);
    }
    return { dir, release, removed: entries.length > 0 ? removeRun(dir, entries) : [], created };
  } catch (error) {
    release();
    throw error;
  }
}

function createNamed(root: string, name: string): RunDirectory {
  const rootIsNew = !fs.existsSync(root);
  makeDirectory(root);
  const base = path.join(root, `${name}-${timestamp()}`);
  for (let counter = 0; ; counter++) {
    const dir = counter === 0 ? base : `${base}-${counter}`;
    try {
      fs.mkdirSync(dir); // atomic: fails if another process took the name first
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST') continue;
      if (rootIsNew) fs.rmSync(root, { recursive: true, force: true }); // nothing left behind: it holds nothing
      throw error;
    }
    return { dir, release: lockRunDir(dir), removed: [], created: true };
  }
}

const isLockEntry = (name: string) => name.startsWith(RUN_LOCK_FILE);
/** A file written through writeFileAtomic and cut off by a kill. */
const isTemporary = (name: string) => /\.tmp-\d+$/.test(name);

/** Entries of `folder` this lab would not have written there (a `/` marks folders). */
function foreignEntries(folder: string, isOurs: (name: string, isDirectory: boolean) => boolean): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((entry) => !isOurs(entry.name, entry.isDirectory()))
    .map((entry) => entry.name + (entry.isDirectory() ? '/' : ''));
}

/**
 * Removes the run in `dir` (its `entries`, the lock aside) and returns what was removed. Only a recognisable run
 * of this lab goes: its files, checkpoints/ and probes/ hold nothing but what training, probes and reports write.
 * Anything else there is a UserError, and nothing is removed.
 */
function removeRun(dir: string, entries: string[]): string[] {
  const topLevel = new Set([CONFIG_FILE, RUN_FILE, METRICS_FILE, REPORT_FILE, 'plotly.min.js']);
  const foreign = foreignEntries(dir, (name, isDirectory) =>
    isDirectory ? name === CHECKPOINTS_DIR || name === PROBES_DIR : topLevel.has(name) || isTemporary(name) || isLockEntry(name),
  );
  const checkpoints = path.join(dir, CHECKPOINTS_DIR);
  if (fs.existsSync(checkpoints) && fs.statSync(checkpoints).isDirectory()) {
    const inside = foreignEntries(checkpoints, (name, isDirectory) => isDirectory && /^(step-\d+|\.partial-step-\d+-\d+)$/.test(name));
    foreign.push(...inside.map((name) => `${CHECKPOINTS_DIR}/${name}`));
  }
  const probes = path.join(dir, PROBES_DIR);
  if (fs.existsSync(probes) && fs.statSync(probes).isDirectory()) {
    const inside = foreignEntries(probes, (name, isDirectory) =>
      isDirectory ? /^step-\d+$/.test(name) : /\.jsonl?$/.test(name) || isTemporary(name),
    );
    foreign.push(...inside.map((name) => `${PROBES_DIR}/${name}`));
  }
  const recognised = [CONFIG_FILE, RUN_FILE, METRICS_FILE, CHECKPOINTS_DIR].some((name) => entries.includes(name));
  if (foreign.length > 0 || !recognised) {
    const listed = foreign.length > 0 ? foreign : entries;
    const shown = listed.slice(0, 5).join(', ') + (listed.length > 5 ? `, ... (${listed.length} in all)` : '');
    throw new UserError(
      `holds files that are not part of a run of this lab (${shown}); --overwrite replaces only a run directory: move them away or choose another --run-dir`,
      { file: dir, field: '--overwrite' },
    );
  }
  return entries.sort().map((name) => {
    const full = path.join(dir, name);
    const described =
      name === CHECKPOINTS_DIR
        ? `${name}/ (${fs.readdirSync(full).filter((entry) => entry.startsWith('step-')).length} checkpoints)`
        : fs.statSync(full).isDirectory()
          ? `${name}/`
          : name;
    fs.rmSync(full, { recursive: true, force: true });
    return described;
  });
}

/**
 * Deletes the temporary files of atomic writes a killed process left in the run directory (`run.json.tmp-<pid>`).
 * Call it holding the run's lock: then no other process is writing one.
 */
export function removeTemporaryFiles(dir: string): void {
  for (const name of fs.readdirSync(dir)) if (isTemporary(name)) fs.rmSync(path.join(dir, name), { force: true });
}

/** A directory holding at least one of the files a run writes first. */
export function isRunDir(dir: string): boolean {
  try {
    if (!fs.statSync(dir).isDirectory()) return false;
  } catch {
    return false;
  }
  return [CONFIG_FILE, RUN_FILE, METRICS_FILE].some((file) => fs.existsSync(path.join(dir, file)));
}

export function writeResolvedConfig(dir: string, config: Config): void {
  writeFileAtomic(path.join(dir, CONFIG_FILE), '# fully resolved config: every default filled in\n' + YAML.stringify(config));
}

/**
 * Writes run.json, stamping `updated_at`. On a full disk, where the atomic write has no room for its temporary
 * copy, run.json is rewritten in place: the status a failed run must record matters more than atomicity.
 */
export function writeRunInfo(dir: string, info: RunInfo): void {
  const file = path.join(dir, RUN_FILE);
  const text = JSON.stringify({ ...info, updated_at: new Date().toISOString() }, null, 2) + '\n';
  try {
    writeFileAtomic(file, text);
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    fs.writeFileSync(file, text);
  }
}

export function readRunInfo(dir: string): RunInfo {
  return readJson<RunInfo>(path.join(dir, RUN_FILE));
}
