import fs from 'node:fs';
import path from 'node:path';
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
}

/**
 * Reads the runs, lays out the page (one run: its own page; several: the comparison) and writes one HTML file
 * that needs nothing else. Should plotly's source ever be unsafe to inline, it is copied beside the page.
 */
export function buildReport(runDirs: string[], options: ReportOptions = {}): ReportResult {
  if (runDirs.length === 0) throw new Error('buildReport needs at least one run directory');
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
  };
}
