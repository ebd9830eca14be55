import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { describeFileError } from './fileErrors.ts';

/**
 * `mkdir -p`, one level at a time. Node's `fs.mkdirSync(dir, { recursive: true })` never returns where a parent
 * exists but refuses new entries with ENOENT (`/proc/self/x`); here that is an ordinary ENOENT error.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let current = path.resolve(dir); !fs.existsSync(current); current = path.dirname(current)) {
    missing.unshift(current);
    if (path.dirname(current) === current) break;
  }
  for (const folder of missing) {
    try {
      fs.mkdirSync(folder);
    } catch (error) {
      // Another process may create the same folder at the same time.
      if ((error as { code?: string }).code !== 'EEXIST' || !fs.statSync(folder).isDirectory()) throw error;
    }
  }
  if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(`not a directory: ${dir}`), { code: 'ENOTDIR' });
}

/**
 * `makeDirectory` for a folder the user named with `field` (`--runs`): a folder that cannot be made (a full disk,
 * a read-only or special file system, a file in the way) is a UserError naming it.
 */
export function makeDirectoryFor(dir: string, field: string): void {
  try {
    makeDirectory(dir);
  } catch (error) {
    const problem = describeFileError(error);
    if (problem === null) throw error;
    throw new UserError(`cannot create the folder: ${problem}`, { file: (error as { path?: string }).path ?? dir, field });
  }
}
