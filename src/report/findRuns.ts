import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { CONFIG_FILE, METRICS_FILE, RUN_FILE } from '../runs/paths.ts';
import { isRunDir } from '../runs/runDirectory.ts';

/**
 * Run arguments to run directories. Node 20 has no fs.glob, and a quoted pattern (`--compare 'runs/add-*'`)
 * reaches us unexpanded, so `*`, `?` and `[...]` are matched here, one path segment at a time, as a shell
 * would (a leading dot must be matched explicitly).
 */

export const hasGlob = (text: string) => /[*?[]/.test(text);

/** A glob segment as a regular expression: `*` any run of characters, `?` one, `[...]`/`[!...]` a class. */
export function segmentPattern(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = segment.slice(i + 1, close);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Paths matching a glob pattern, in sorted order per segment (run names end in a sortable time). */
export function expandGlob(pattern: string): string[] {
  const root = path.parse(pattern).root;
  const segments = pattern
    .slice(root.length)
    .split(/[\\/]+/)
    .filter((s) => s !== '');
  let matches = [root];
  for (const segment of segments) {
    const next: string[] = [];
    for (const base of matches) {
      if (!hasGlob(segment)) {
        const candidate = base ? path.join(base, segment) : segment;
        if (fs.existsSync(candidate)) next.push(candidate);
        continue;
      }
      let entries: string[];
      try {
        entries = fs.readdirSync(base || '.').sort();
      } catch {
        continue;
      }
      const regex = segmentPattern(segment);
      for (const entry of entries) {
        if (entry.startsWith('.') && !segment.startsWith('.')) continue;
        if (regex.test(entry)) next.push(base ? path.join(base, entry) : entry);
      }
    }
    matches = next;
  }
  return matches;
}

/**
 * Run directories from arguments: a plain path must be a run; a pattern keeps the run directories it matches
 * (skipping e.g. compare-*.html beside them) and must match at least one. Duplicates are dropped, order kept.
 */
export function expandRuns(args: string[]): string[] {
  const runs: string[] = [];
  for (const arg of args) {
    if (hasGlob(arg) && !fs.existsSync(arg)) {
      const matched = expandGlob(arg).filter(isRunDir);
      if (matched.length === 0) throw new UserError('matches no run directory', { file: arg });
      runs.push(...matched);
    } else {
      if (!isRunDir(arg)) throw new UserError(`not a run directory (no ${CONFIG_FILE}, ${RUN_FILE} or ${METRICS_FILE})`, { file: arg });
      runs.push(arg);
    }
  }
  const seen = new Set<string>();
  return runs.filter((dir) => {
    const key = path.resolve(dir);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
