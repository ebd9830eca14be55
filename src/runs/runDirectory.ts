import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { readJson, writeFileAtomic } from './jsonFiles.ts';
import { CONFIG_FILE, METRICS_FILE, RUN_FILE } from './paths.ts';
import type { RunInfo } from './records.ts';

/** Local time as `20261126-101500`, for run and page names that sort by time. */
export function timestamp(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/**
 * Chooses and creates the run directory. Without `explicit`, `root/<name>-<time>` with a counter appended
 * if that exists; an explicit directory must be new or empty unless `overwrite` is set. Never clobbers.
 */
export function createRunDir(options: { root: string; name: string; explicit?: string; overwrite?: boolean }): string {
  if (options.explicit) {
    const dir = options.explicit;
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory()) throw new UserError('exists and is not a directory', { file: dir, field: '--run-dir' });
      if (fs.readdirSync(dir).length > 0) {
        if (!options.overwrite) {
          throw new UserError('run directory exists and is not empty (pass --overwrite to replace it, or --resume to continue it)', {
            file: dir,
            field: '--run-dir',
          });
        }
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
  fs.mkdirSync(options.root, { recursive: true });
  const base = path.join(options.root, `${options.name}-${timestamp()}`);
  for (let counter = 0; ; counter++) {
    const dir = counter === 0 ? base : `${base}-${counter}`;
    try {
      fs.mkdirSync(dir); // atomic: fails if another process took the name first
      return dir;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
  }
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

/** Writes run.json, stamping `updated_at`. */
export function writeRunInfo(dir: string, info: RunInfo): void {
  writeFileAtomic(path.join(dir, RUN_FILE), JSON.stringify({ ...info, updated_at: new Date().toISOString() }, null, 2) + '\n');
}

export function readRunInfo(dir: string): RunInfo {
  return readJson<RunInfo>(path.join(dir, RUN_FILE));
}
