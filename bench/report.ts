// How long `arith-lab report` takes, and how big the page gets, for 5 runs of 5,000 steps.
// The runs are fabricated (test/fixtures/reportRuns.ts), not trained: metrics.jsonl with 500 lines each (logged
// every 10 steps, evaluated every 250), length-by-step.jsonl every 500 steps, and every probe's JSON from the
// real probes run on a stub predictor (100 problems per cell, operands up to 10 digits, 2 layers x 4 heads).
//   node bin/run-ts.js bench/report.ts [--keep DIR]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildReport } from '../src/report/report.ts';
import { hasChromium, openReport } from '../test/fixtures/browser.ts';
import { fabricateRun } from '../test/fixtures/reportRuns.ts';

const keep = process.argv.indexOf('--keep');
const root = keep > 0 ? process.argv[keep + 1] : fs.mkdtempSync(path.join(os.tmpdir(), 'arith-report-bench-'));
const encodings = ['nope', 'ape', 'sinusoidal', 'rope', 'alibi'];
const generalization: Record<string, number> = { nope: 0.7, ape: 0.05, sinusoidal: 0.2, rope: 0.4, alibi: 0.6 };

let started = performance.now();
const runs: string[] = [];
for (const pos of encodings) {
  runs.push(
    await fabricateRun(path.join(root, `addition-${pos}-bench`), {
      pos,
      steps: 5000,
      generalization: generalization[pos],
      probeEvery: 500,
      samples: 100,
      maxDigits: 10,
    }),
  );
}
console.log(`fabricated ${runs.length} runs in ${((performance.now() - started) / 1000).toFixed(1)} s under ${root}`);
for (const run of runs) {
  const lines = fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
  const probes = fs.readdirSync(path.join(run, 'probes'));
  const bytes = probes.reduce((sum, f) => sum + fs.statSync(path.join(run, 'probes', f)).size, 0);
  console.log(`  ${path.basename(run)}: ${lines} metrics lines, probes ${probes.join(' ')} (${(bytes / 1e6).toFixed(2)} MB)`);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
started = performance.now();
const compare = buildReport(runs, { out: path.join(root, 'compare.html') });
const wall = (performance.now() - started) / 1000;
console.log(`compare page, 5 runs: ${wall.toFixed(2)} s, ${mb(compare.bytes)}, ${compare.figures.length} figures -> ${compare.file}`);
for (const run of runs) {
  const single = buildReport([run]);
  console.log(
    `single-run page ${path.basename(run)}: ${single.seconds.toFixed(2)} s, ${mb(single.bytes)}, ${single.figures.length} figures`,
  );
}

// The command a user types, process start and TypeScript loading included.
const out = path.join(root, 'compare-cli.html');
started = performance.now();
const cli = spawnSync(process.execPath, ['bin/arith-lab.js', 'report', '--compare', path.join(root, 'addition-*'), '--out', out], {
  encoding: 'utf8',
});
if (cli.status !== 0) throw new Error(cli.stderr);
console.log(
  `arith-lab report --compare '${path.join(root, 'addition-*')}': ${((performance.now() - started) / 1000).toFixed(2)} s wall, ${mb(fs.statSync(out).size)}`,
);

if (hasChromium()) {
  for (const file of [compare.file, path.join(runs[0], 'report.html')]) {
    const loaded = await openReport(file);
    console.log(
      `headless Chromium draws ${path.basename(file)} in ${(loaded.renderMs / 1000).toFixed(2)} s; errors ${loaded.errors.length}, requests ${loaded.requests.length}`,
    );
    await loaded.close();
  }
}
if (keep < 0) fs.rmSync(root, { recursive: true, force: true });
