import fs from 'node:fs';
import path from 'node:path';

/** `<run>` as given, or `runs/<run>` when only that exists, so `arith-lab probe addition-nope-2026...` works. */
export function resolveRunDir(run: string, runsRoot = 'runs'): string {
  if (fs.existsSync(run)) return run;
  const underRuns = path.join(runsRoot, run);
  return fs.existsSync(underRuns) ? underRuns : run;
}
