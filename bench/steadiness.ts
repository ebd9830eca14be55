/**
 * How steady this machine's core is: the same fixed piece of work (about 5 ms of small matrix products, no
 * allocation) timed back to back for --seconds, then, for windows of 0.1 s to 8 s, the median of
 * each window and how far those medians scatter. On a dedicated core every window gives the same time; on a
 * virtual machine whose cores share hardware with other tenants, short windows scatter by the host's load, and
 * a bench round shorter than the windows that agree measures the moment more than the engine.
 *   taskset -c 1 node bin/run-ts.js bench/steadiness.ts [--seconds 20] [--out bench/results]
 * Writes bench/results/steadiness-<time>.json with every sample.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { medianOf, windowSpread } from './spread.ts';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const seconds = Number(argument('seconds', '20'));
if (!(seconds >= 1)) {
  console.error(`steadiness: error: --seconds must be a number of at least 1, got ${argument('seconds', '')}`);
  process.exit(2);
}

/**
 * A fixed amount of work: 64 x 64 matrix products in float64, repeated. It keeps the core's arithmetic units
 * and L1 cache busy as a matrix product in BLAS does, so it slows down when another tenant shares the core
 * (a chain of dependent integer multiplies, tried first, did not: it waits on latency, not on shared units).
 */
const N = 64;
const a = Float64Array.from({ length: N * N }, (_, i) => ((i * 7919) % 101) / 101);
const b = Float64Array.from({ length: N * N }, (_, i) => ((i * 104_729) % 97) / 97);
const c = new Float64Array(N * N);
function work(repeats: number): number {
  for (let r = 0; r < repeats; r++) {
    c.fill(0);
    for (let i = 0; i < N; i++)
      for (let k = 0; k < N; k++) {
        const aik = a[i * N + k];
        for (let j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
      }
  }
  return c[(repeats * 31) % (N * N)];
}

// Size the piece to about 5 ms on this core after the JIT has compiled it.
let products = 20;
let sink = 0;
for (let i = 0; i < 20; i++) sink ^= work(products);
const started = performance.now();
sink ^= work(products);
products = Math.max(1, Math.round((products * 5) / (performance.now() - started)));

const samples: { at: number; ms: number }[] = [];
const origin = performance.now();
while (performance.now() - origin < seconds * 1000) {
  const at = performance.now();
  sink ^= work(products);
  samples.push({ at: at - origin, ms: performance.now() - at });
}

const windows = [100, 500, 1000, 2000, 4000, 8000].filter((w) => w <= (seconds * 1000) / 2);
console.log(
  `${samples.length} pieces of ${products} products, median ${medianOf(samples.map((s) => s.ms)).toFixed(2)} ms, over ${seconds} s (checksum ${sink})`,
);
console.log(
  `${'window'.padStart(8)} ${'windows'.padStart(8)} ${'median ms'.padStart(10)} ${'min-max'.padStart(14)} ${'largest deviation'.padStart(18)}`,
);
const rows = windows.map((windowMs) => {
  const spread = windowSpread(samples, windowMs);
  console.log(
    `${`${windowMs / 1000} s`.padStart(8)} ${String(spread.rounds.length).padStart(8)} ${spread.median.toFixed(2).padStart(10)} ${`${spread.min.toFixed(2)}-${spread.max.toFixed(2)}`.padStart(14)} ${`±${spread.maxDeviationPercent.toFixed(0)}%`.padStart(18)}`,
  );
  return {
    window_ms: windowMs,
    windows: spread.rounds.length,
    median_ms: Number(spread.median.toFixed(3)),
    min_ms: Number(spread.min.toFixed(3)),
    max_ms: Number(spread.max.toFixed(3)),
    max_deviation_percent: Number(spread.maxDeviationPercent.toFixed(1)),
  };
});

const out = argument('out', 'bench/results');
fs.mkdirSync(out, { recursive: true });
const file = path.join(out, `steadiness-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
const meta = {
  date: new Date().toISOString(),
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  load_at_start: os.loadavg(),
  seconds,
  products,
};
fs.writeFileSync(
  file,
  `${JSON.stringify({ ...meta, windows: rows, samples: samples.map((s) => [Number(s.at.toFixed(2)), Number(s.ms.toFixed(3))]) })}\n`,
);
console.log(`wrote ${file}`);
