/**
 * Numerics and host uploads of the torch backend on a device, for a GPU box (scripts/gpu-bundle.sh runs it):
 *   node bin/run-ts.js bench/device-check.ts [--device cuda] [--against torch-cpu,cpu] [--pos all|ape,rope,...]
 *                                            [--steps 20] [--out DIR]
 * For each positional encoding, trains the small model of test/torch-training.test.ts (2 layers, d 32, batch 16,
 * seed 5, configs/addition-nope.yaml) for --steps AdamW steps on torch/<device> and on each reference
 * (`torch-cpu`: the same addon on the CPU; `cpu`: tfjs's JavaScript kernels), and prints the largest relative
 * loss difference. Also counts the bytes copied from JavaScript buffers into native tensors per step on the
 * device (the batch: token ids, targets, loss mask; constant buffers become native fills and are not counted).
 * Passes when every loss agrees to 1e-4 relative and no step uploads more than the batch + 4 KiB; exits 1 if not.
 * Default --against: torch-cpu,cpu for a device other than cpu, else cpu.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DeviceName } from '../src/backends/select.ts';
import { trainParityModel } from '../test/harness/parity.ts';
import { POSITIONAL_NAMES } from '../src/models/positional/index.ts';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

type Engine = { name: string; backend: 'torch' | 'cpu'; device: DeviceName; label: string };
const device = argument('device', 'cuda') as DeviceName;
const steps = Number(argument('steps', '20'));
const against = argument('against', device === 'cpu' ? 'cpu' : 'torch-cpu,cpu').split(',');
const posArg = argument('pos', 'all');
const positions = posArg === 'all' ? [...POSITIONAL_NAMES] : posArg.split(',');
const TOLERANCE = 1e-4;
const engine = (name: string): Engine => {
  if (name === 'torch-cpu') return { name, backend: 'torch', device: 'cpu', label: 'torch/cpu' };
  if (name === 'cpu') return { name, backend: 'cpu', device: 'cpu', label: 'tfjs cpu' };
  throw new Error(`--against: unknown reference "${name}" (torch-cpu or cpu)`);
};
const subject: Engine = { name: 'torch', backend: 'torch', device, label: `torch/${device}` };
const references = against.map(engine);

async function train(on: Engine, pos: string) {
  const run = await trainParityModel(on.backend, pos, steps, on.device);
  run.model.dispose();
  tf.disposeVariables();
  return run;
}

const rows: object[] = [];
let ok = true;
console.log(`device check: ${steps} steps per positional encoding, torch/${device} against ${references.map((r) => r.label).join(', ')}`);
for (const pos of positions) {
  const tested = await train(subject, pos);
  const maxUpload = Math.max(...tested.uploads);
  const uploadOk = maxUpload <= tested.batchBytes + 4096;
  ok &&= uploadOk;
  const row: Record<string, unknown> = {
    pos,
    device,
    losses: tested.losses,
    ms: Math.round(tested.ms),
    upload_bytes_per_step: tested.uploads,
    batch_bytes: tested.batchBytes,
  };
  const parts: string[] = [];
  for (const reference of references) {
    const ref = await train(reference, pos);
    const diff = Math.max(...tested.losses.map((loss, i) => Math.abs(loss - ref.losses[i]) / Math.abs(ref.losses[i])));
    ok &&= diff <= TOLERANCE;
    row[`vs_${reference.name}`] = { max_rel_diff: diff, losses: ref.losses, ms: Math.round(ref.ms) };
    parts.push(`vs ${reference.label} max rel diff ${diff.toExponential(2)}${diff <= TOLERANCE ? '' : ' FAIL'}`);
  }
  rows.push(row);
  console.log(
    `${pos.padEnd(12)} loss ${tested.losses[0].toFixed(4)} -> ${tested.losses[steps - 1].toFixed(4)}  ${parts.join('  ')}  ` +
      `upload/step ${maxUpload} B (batch ${tested.batchBytes} B)${uploadOk ? '' : ' FAIL'}  ${Math.round(tested.ms / steps)} ms/step`,
  );
}
console.log(
  ok ? 'device check: PASS' : `device check: FAIL (losses must agree to ${TOLERANCE} relative, uploads stay within the batch + 4096 B)`,
);
const out = argument('out', '');
if (out) {
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, `device-check-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), device, steps, against, tolerance: TOLERANCE, ok, results: rows }, null, 2) + '\n',
  );
  console.log(`wrote ${file}`);
}
process.exitCode = ok ? 0 : 1;
