import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

const LAB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Versions that decide a run's numbers: the lab, tfjs and Node. */
export function versions(): Record<string, string> {
  let lab = 'unknown'; // e.g. inside an esbuild bundle carried to a machine without the source tree
  try {
    lab = (JSON.parse(fs.readFileSync(path.join(LAB_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {}
  return { 'arith-lab': lab, tfjs: tf.version.tfjs, node: process.version };
}

/** The lab's git commit, with `-dirty` when the tree has changes; null outside a checkout. */
export function gitCommit(): string | null {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: LAB_ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: LAB_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return null;
  }
}
