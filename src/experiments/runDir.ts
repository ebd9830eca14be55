import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';

export const CONFIG_FILE = 'config.yaml';
export const METRICS_FILE = 'metrics.jsonl';
export const RUN_FILE = 'run.json';

export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted';

export interface RunInfo {
  status: RunStatus;
  name: string;
  backend: string;
  started_at: string;
  updated_at: string;
  versions: Record<string, string>;
  git_commit: string | null;
  parameters?: number;
  step?: number;
  /** Seconds spent in optimizer steps (evaluation and checkpoints excluded), over all sessions. */
  train_seconds?: number;
  finished_at?: string;
  /** Why the run failed or stopped. */
  message?: string;
  /** The newest checkpoint, relative to the run directory. */
  checkpoint?: { step: number; dir: string };
  /** One entry per `train --resume`: when, from which step, on which backend and lab commit. */
  resumes?: { at: string; step: number; backend: string; git_commit: string | null }[];
  result?: { accuracy: Record<string, number>; accuracy_in_range: number | null; accuracy_beyond: number | null };
}

function timestamp(date = new Date()): string {
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

/** Writes a file through a temporary name and a rename, so readers never see half of it. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

export function writeResolvedConfig(dir: string, config: Config): void {
  writeFileAtomic(path.join(dir, CONFIG_FILE), '# fully resolved config: every default filled in\n' + YAML.stringify(config));
}

export function writeRunInfo(dir: string, info: RunInfo): void {
  writeFileAtomic(path.join(dir, RUN_FILE), JSON.stringify({ ...info, updated_at: new Date().toISOString() }, null, 2) + '\n');
}

export function readRunInfo(dir: string): RunInfo {
  return JSON.parse(fs.readFileSync(path.join(dir, RUN_FILE), 'utf8')) as RunInfo;
}
