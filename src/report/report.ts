import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { inlineSafe, plotlyBundle, renderHtml } from './html.ts';
import { comparePage, pageFigures, runPage } from './page.ts';
import { writeFileAtomic } from '../runs/jsonFiles.ts';
import { REPORT_FILE } from '../runs/paths.ts';
import { timestamp } from '../runs/runDirectory.ts';
import { readRun } from './readRun.ts';

export interface ReportOptions {
  /** Where to write the page. Default: `<run>/report.html` for one run, `<runsRoot>/compare-<time>.html` for several. */
  out?: string;
  /** Folder for comparison pages without `out` (default `runs`). */
  runsRoot?: string;
  now?: Date;
}

export interface ReportResult {
  file: string;
  bytes: number;
  seconds: number;
  runs: number;
  /** Figure ids on the page, in order, with their trace counts. */
  figures: { id: string; traces: number }[];
  /** What the page notes about the runs (missing files, repeated steps), `<run>: <note>` with several runs. */
  notes: string[];
}

/** `--out` must name a file that can be written: refused before anything is, so no temporary file is left. */
function checkOut(out: string): void {
  const exists = (file: string) => {
    try {
      return fs.statSync(file);
    } catch {
      return undefined; // missing, or under a file (ENOTDIR): the walk below finds which
    }
  };
  if (out.endsWith('/') || exists(out)?.isDirectory()) {
    throw new UserError('is a directory; name the HTML file to write, e.g. report.html inside it', { field: '--out', file: out });
  }
  // The nearest existing ancestor must be a folder, or the page's folder cannot be made.
  for (let dir = path.dirname(path.resolve(out)); ; dir = path.dirname(dir)) {
    const stat = exists(dir);
    if (stat && !stat.isDirectory()) throw new UserError(`${dir} is not a directory`, { field: '--out', file: out });
    if (stat || dir === path.dirname(dir)) return;
  }
}

/**
 * Reads the runs, lays out the page (one run: its own page; several: the comparison) and writes one HTML file
 * that needs nothing else. Should plotly's source ever be unsafe to inline, it is copied beside the page.
 */
export function buildReport(runDirs: string[], options: ReportOptions = {}): ReportResult {
  if (runDirs.length === 0) throw new Error('buildReport needs at least one run directory');
  if (options.out !== undefined) checkOut(options.out);
  const started = performance.now();
  const now = options.now ?? new Date();
  const runs = runDirs.map(readRun);
  const page = runs.length === 1 ? runPage(runs[0], now) : comparePage(runs, now);
  const file =
    options.out ??
    (runs.length === 1 ? path.join(runDirs[0], REPORT_FILE) : path.join(options.runsRoot ?? 'runs', `compare-${timestamp(now)}.html`));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let html: string;
  if (inlineSafe(plotlyBundle())) {
    html = renderHtml(page);
  } else {
    const beside = 'plotly.min.js';
    fs.writeFileSync(path.join(path.dirname(file), beside), plotlyBundle());
    html = renderHtml(page, { plotlySrc: beside });
  }
  writeFileAtomic(file, html);
  return {
    file,
    bytes: Buffer.byteLength(html),
    seconds: (performance.now() - started) / 1000,
    runs: runs.length,
    figures: pageFigures(page).map((f) => ({ id: f.id, traces: f.data.length })),
    notes: runs.flatMap((run) => run.notes.map((note) => (runs.length === 1 ? note : `${run.name}: ${note}`))),
  };
}
