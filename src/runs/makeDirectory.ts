import fs from 'node:fs';
import path from 'node:path';

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
