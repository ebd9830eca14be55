import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import { train } from '../src/experiments/train.ts';
import { PROBES } from '../src/probes/index.ts';
import { lengthProbeDuringTraining } from '../src/probes/duringTraining.ts';
import { modelCapture, modelPredictor, probeContext, runProbes } from '../src/probes/run.ts';
import { renderHtml } from '../src/report/html.ts';
import { buildReport } from '../src/report/report.ts';
import { writeProbeRun } from '../src/runs/probeFiles.ts';
import { hasChromium, openReport, type LoadedPage } from './fixtures/browser.ts';

// Real runs, trained briefly: 2-digit reversed addition, 2 layers x 2 heads, 60 steps on wasm (a few seconds
// each). Accuracy stays low; the report only has to draw what the run wrote. The probed run uses a learned
// position table of 17 tokens, so its probe grid is capped at 3 digits (4 asked) and the page has to say why.
const CONFIG = {
  seed: 0,
  backend: 'wasm',
  task: { op: 'add', train_digits: [1, 2], test_digits: [1, 3], test_size: 50 },
  format: { name: 'reversed' },
  model: { layers: 2, heads: 2, d_model: 32, max_len: 17, pos: 'ape' },
  train: {
    steps: 60,
    batch: 32,
    lr: 0.01,
    warmup: 5,
    eval_every: 20,
    eval_size: 20,
    log_every: 5,
    checkpoint_every: 60,
    probe_every: 20,
    probe_samples: 10,
  },
};
const LAYERS = 2;
const HEADS = 2;
const TEST_LENGTHS = 3; // test_digits [1, 3]
const GRID = 3; // the probes' default grid is twice the longest trained length, 4, capped at 3 by max_len 17

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-report-e2e-'));
const ape = path.join(root, 'runs', 'addition-ape');
const nope = path.join(root, 'runs', 'addition-nope');
let unprobedPage: string;
let probedPage: string;
let comparePage: string;

beforeAll(async () => {
  const config = (pos: string) =>
    parseConfig({ ...structuredClone(CONFIG), name: `addition-${pos}`, model: { ...CONFIG.model, pos } }, 'test');
  fs.mkdirSync(ape, { recursive: true });
  const trained = await train(config('ape'), ape, { onProbe: lengthProbeDuringTraining(ape) });
  // Before probing: only the training curves and train.probe_every's length-by-step.jsonl exist.
  unprobedPage = buildReport([ape], { out: path.join(root, 'unprobed.html') }).file;
  const context = probeContext(trained.experiment, { samples: 20 });
  const target = { predictor: modelPredictor(trained.model, trained.experiment), capture: modelCapture(trained.model) };
  for (const run of await runProbes(Object.values(PROBES), target, context))
    writeProbeRun(ape, run, { step: CONFIG.train.steps, checkpoint: false });
  trained.model.dispose();
  probedPage = buildReport([ape]).file;

  fs.mkdirSync(nope, { recursive: true });
  (await train(config('nope'), nope, { onProbe: lengthProbeDuringTraining(nope) })).model.dispose();
  comparePage = buildReport([ape, nope], { out: path.join(root, 'compare.html') }).file;
}, 240_000);

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

interface RenderedPlot {
  id: string;
  traces: number;
  /** Trace count the page's figure spec declared (data-traces). */
  declared: number;
  /** Text groups (titles, axis titles, legend, colorbar, annotations) that overlap another, or stick out of the figure. */
  overlaps: string[];
  outside: string[];
}

/** Every plotly figure on the page with its trace count (`el.data.length`) and a check that its texts do not collide. */
async function renderedPlots(page: Page): Promise<RenderedPlot[]> {
  return page.$$eval('.js-plotly-plot', (elements) =>
    elements.map((element) => {
      const frame = element.getBoundingClientRect();
      const groups = [...element.querySelectorAll('.infolayer > g, g.annotation')]
        .map((g) => ({ name: (g.getAttribute('class') ?? '').split(' ').pop()!, box: g.getBoundingClientRect() }))
        .filter((g) => g.box.width > 0 && g.box.height > 0);
      const overlaps: string[] = [];
      const outside: string[] = [];
      const tolerance = 1;
      groups.forEach((a, i) => {
        const { box } = a;
        if (
          box.left < frame.left - tolerance ||
          box.right > frame.right + tolerance ||
          box.top < frame.top - tolerance ||
          box.bottom > frame.bottom + tolerance
        )
          outside.push(a.name);
        for (const b of groups.slice(i + 1)) {
          const apart =
            box.right <= b.box.left + tolerance ||
            b.box.right <= box.left + tolerance ||
            box.bottom <= b.box.top + tolerance ||
            b.box.bottom <= box.top + tolerance;
          if (!apart) overlaps.push(`${a.name} / ${b.name}`);
        }
      });
      return {
        id: element.getAttribute('data-figure')!,
        traces: (element as unknown as { data: unknown[] }).data.length,
        declared: Number(element.getAttribute('data-traces')),
        overlaps,
        outside,
      };
    }),
  );
}

/** The whole page, its first screen, and each section alone (a whole page is too tall to read once scaled down). */
async function screenshots(page: Page, name: string): Promise<string[]> {
  const dir = path.join(os.tmpdir(), 'arith-lab-report-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, `${name}.png`), path.join(dir, `${name}-top.png`)];
  await page.screenshot({ path: files[0], fullPage: true });
  await page.screenshot({ path: files[1] });
  for (const id of await page.$$eval('main section', (sections) => sections.map((s) => s.id))) {
    const file = path.join(dir, `${name}-${id}.png`);
    await page.locator(`section#${id}`).screenshot({ path: file });
    files.push(file);
  }
  return files;
}

async function expectClean(loaded: LoadedPage, plots: RenderedPlot[]) {
  expect(loaded.errors).toEqual([]);
  expect(loaded.requests).toEqual([]);
  for (const plot of plots) {
    expect(plot.traces, plot.id).toBe(plot.declared);
    expect(plot.overlaps, `${plot.id}: overlapping text`).toEqual([]);
    expect(plot.outside, `${plot.id}: text outside the figure`).toEqual([]);
  }
}

describe.skipIf(!hasChromium())('report pages in headless Chromium', () => {
  it('the text-collision check itself catches a legend over the title and an annotation outside the figure', async () => {
    const figure = {
      id: 'bad',
      data: [{ type: 'scatter', name: 'a line with a long legend name', x: [1, 2], y: [1, 2] }],
      layout: {
        height: 300,
        title: { text: 'A title the legend is drawn over', x: 0, xref: 'paper', xanchor: 'left' },
        showlegend: true,
        legend: { x: 0, xanchor: 'left', y: 1.2, yanchor: 'bottom' },
        annotations: [{ text: 'far away', xref: 'paper', yref: 'paper', x: 3, y: 0.5, showarrow: false }],
      },
    };
    const file = path.join(root, 'bad.html');
    fs.writeFileSync(
      file,
      renderHtml({ title: 'bad', subtitle: '', sections: [{ id: 's', heading: 's', blocks: [{ kind: 'figure', figure }] }], aside: [] }),
    );
    const loaded = await openReport(file);
    try {
      const [plot] = await renderedPlots(loaded.page);
      expect(plot.overlaps, JSON.stringify(plot)).toContain('legend / g-gtitle');
      expect(plot.outside).toContain('annotation');
    } finally {
      await loaded.close();
    }
  });

  it('a run without probes: training curves and length-by-step, and a note on how to probe', async () => {
    const loaded = await openReport(unprobedPage);
    try {
      const plots = await renderedPlots(loaded.page);
      expect(plots.map((p) => [p.id, p.traces])).toEqual([
        ['loss', 2],
        ['accuracy-by-step', TEST_LENGTHS],
        ['length-by-step', GRID],
      ]);
      await expectClean(loaded, plots);
      expect(await loaded.page.textContent('#probes')).toMatch(/no probes yet.*arith-lab probe/);
    } finally {
      await loaded.close();
    }
  });

  it('a probed run: every plot drawn with its traces, no errors, no network, no overlapping text', async () => {
    const loaded = await openReport(probedPage);
    try {
      const plots = await renderedPlots(loaded.page);
      // Attention prompts: half the longest trained length (1) and the longest (2); two beyond (4) is past the grid.
      expect(plots.map((p) => [p.id, p.traces])).toEqual([
        ['loss', 2],
        ['accuracy-by-step', TEST_LENGTHS],
        ['length-grid', 1],
        ['length-by-step', GRID],
        ['digits', GRID],
        ['carries-carries', 2],
        ['carries-longest-chain', 2],
        ['attention-0', LAYERS * HEADS],
        ['attention-1', LAYERS * HEADS],
        ['linear', 1],
        // A read of ĉ_k from the embedding and after each block, and the digit written.
        ['readout', LAYERS + 2],
      ]);
      await expectClean(loaded, plots);
      const text = await loaded.page.textContent('body');
      expect(text).toMatch(/Wrong answers/);
      expect(text).toMatch(/model\.pos\s*ape/);
      expect(text).toMatch(/The grid stops at 3 digits \(4 asked\): 4-digit problems need \d+ tokens/);
      expect(await loaded.page.$$eval('#errors tbody tr', (rows) => rows.length)).toBeGreaterThan(0);
      const shots = await screenshots(loaded.page, 'run');
      console.log(`screenshots of the run report (rendered in ${loaded.renderMs.toFixed(0)} ms):\n  ${shots.join('\n  ')}`);
    } finally {
      await loaded.close();
    }
  });

  it('comparing two runs: overlaid curves labelled by model.pos, and the in-range vs beyond table', async () => {
    const loaded = await openReport(comparePage);
    try {
      const plots = await renderedPlots(loaded.page);
      expect(plots.map((p) => [p.id, p.traces])).toEqual([
        ['compare-by-length', 2],
        ['compare-grids', 1],
        ['compare-in-range', 2],
        ['compare-beyond', 2],
        ['compare-loss', 2],
        ['compare-loss-by-time', 2],
      ]);
      await expectClean(loaded, plots);
      const legend = await loaded.page.$$eval('#figure-compare-loss .legendtext', (texts) => texts.map((t) => t.textContent));
      expect(legend).toEqual(['model.pos=ape', 'model.pos=nope']);
      const rows = await loaded.page.$$eval('#generalization tbody tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)),
      );
      expect(rows).toEqual([
        ['addition-ape', 'ape', 'finished'],
        ['addition-nope', 'nope', 'finished'],
      ]);
      const shots = await screenshots(loaded.page, 'compare');
      console.log(`screenshots of the comparison:\n  ${shots.join('\n  ')}`);
    } finally {
      await loaded.close();
    }
  });
});

describe('train --report', () => {
  it('writes <run>/report.html during training and leaves it showing the finished run', () => {
    const configFile = path.join(root, 'tiny.yaml');
    fs.writeFileSync(configFile, YAML.stringify({ ...CONFIG, train: { ...CONFIG.train, steps: 20, eval_every: 10, probe_every: null } }));
    const runDir = path.join(root, 'runs', 'cli');
    const result = spawnSync(
      process.execPath,
      [path.resolve('bin/arith-lab.js'), 'train', '--config', configFile, '--run-dir', runDir, '--report'],
      { encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    const report = path.join(runDir, 'report.html');
    expect(result.stdout).toContain(`report: ${report}`);
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toMatch(/finished, step 20 of 20/);
    expect(html).toMatch(/data-figure="accuracy-by-step" data-traces="3"/);
  });
});
