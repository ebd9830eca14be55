import { execFileSync } from 'node:child_process';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { defaultThreads, registerTorchBackend } from '../src/backends/torch/index.ts';
import { describeTorch } from './fixtures/torch.ts';

/** Runs test/fixtures/select-backend.ts in a fresh process; returns its lines without tfjs's banner. */
function select(args: string[], env: Record<string, string> = {}): string[] {
  const out = execFileSync(process.execPath, ['bin/run-ts.js', 'test/fixtures/select-backend.ts', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return out.split('\n').filter((line) => /^(log|chosen|error): /.test(line));
}

describe('backend auto', () => {
  it('without the addon: wasm, and one line saying why', () => {
    const lines = select(['auto'], { ARITH_TORCH_ADDON: '/nonexistent/arith_torch.node' });
    expect(lines).toEqual([
      'log: torch addon not built (npm run build:torch; needs libtorch: apt-get install libtorch-dev, or LIBTORCH=<PyTorch dir>); using wasm',
      'log: backend: wasm (auto)',
      'chosen: wasm',
    ]);
  });

  it('--backend torch without the addon is a user error naming the fix', () => {
    const [line] = select(['torch'], { ARITH_TORCH_ADDON: '/nonexistent/arith_torch.node' });
    expect(line).toMatch(/^error: UserError: backend "torch": torch addon not built \(npm run build:torch/);
  });
});

describeTorch('backend auto with the addon', () => {
  it('picks torch', () => {
    expect(select(['auto']).at(-1)).toBe('chosen: torch');
  });

  it('runs on ARITH_THREADS threads and says so', () => {
    expect(select(['torch'], { ARITH_THREADS: '1' }).join('\n')).toMatch(/backend: torch \(libtorch [^,]+, cpu, 1 threads/);
  });

  it("ARITH_MATMUL_PRECISION=high sets ATen's float32 matmul precision and says so; a bad value names the variable", () => {
    expect(select(['torch'], { ARITH_MATMUL_PRECISION: 'high' }).join('\n')).toMatch(
      /backend: torch \(libtorch [^)]*, float32 matmul precision high \(TF32\)\)/,
    );
    expect(select(['torch']).join('\n')).not.toMatch(/matmul precision/);
    expect(select(['torch'], { ARITH_MATMUL_PRECISION: 'fast' })[0]).toBe(
      'error: UserError: ARITH_MATMUL_PRECISION must be one of highest, high, medium, not "fast"',
    );
  });

  it('device cuda without a CUDA libtorch or GPU is a user error', () => {
    const info = registerTorchBackend().native.info();
    if (info.cudaAvailable) return;
    expect(select(['torch', 'cuda'])[0]).toMatch(/^error: UserError: backend "torch" cannot use device "cuda": /);
  });

  it('libtorch errors surface as JS errors with their message, without the C++ backtrace', () => {
    const native = registerTorchBackend().native;
    const a = native.fromBuffer(new Float32Array([1, 2, 3]), [3], 0);
    const b = native.fromBuffer(new Float32Array([1, 2, 3, 4]), [4], 0);
    try {
      expect(() => native.add(a, b)).toThrow(
        /^The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 0$/,
      );
      expect(() => native.reshape(a, [2, 2])).toThrow(/shape '\[2, 2\]' is invalid for input of size 3/);
    } finally {
      native.dispose(a);
      native.dispose(b);
    }
    expect(() => native.dispose(a)).toThrow(/no tensor in slot/);
    expect(() => native.read(a)).toThrow(/no tensor in slot/);
  });

  it('a JS buffer is copied: changing it after the write leaves the tensor as written', async () => {
    registerTorchBackend();
    await tf.setBackend('torch');
    const values = new Float32Array([1, 2, 3]);
    const t = tf.tensor(values);
    values[0] = 42;
    expect(Array.from(await t.data())).toEqual([1, 2, 3]);
    t.dispose();
  });
});

describe('torch threads', () => {
  it('default to ARITH_THREADS when it is a positive integer, else to the usable cores', () => {
    expect(defaultThreads({ ARITH_THREADS: '1' })).toBe(1);
    expect(defaultThreads({ ARITH_THREADS: '3' })).toBe(3);
    for (const bad of [undefined, '', '0', '-2', '1.5', 'two'])
      expect(defaultThreads({ ARITH_THREADS: bad })).toBe(os.availableParallelism());
  });
});

describeTorch('torch keeps the heap between steps', () => {
  /** Minor page faults of the last four of six rounds of holding and freeing twenty 4 MiB tensors (fresh process). */
  function faults(env: Record<string, string>): number {
    const out = execFileSync(process.execPath, ['bin/run-ts.js', 'test/fixtures/heap-faults.ts'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    return Number(/faults: (\d+)/.exec(out)![1]);
  }

  it('reuses freed memory instead of mapping fresh pages every round; ARITH_KEEP_HEAP=0 restores glibc defaults', () => {
    const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
    if (!report.header?.glibcVersionRuntime) return; // keepHeap is glibc's mallopt
    expect(registerTorchBackend().native.info().heapKept).toBe(true);
    // 80 MiB a round is 20,480 pages: glibc's defaults map and zero them again in some or all of the four rounds
    // (measured 72,000-82,000 faults alone, 28,600-41,000 and once 36,774 under the whole suite's load, when glibc's
    // own threshold lets some rounds reuse the heap); kept, 20-6,200 faults remain (the rest of the process). So:
    // at least one whole round of fresh pages without it. glibc's defaults sometimes keep the heap too (4,144 faults
    // once, in a CI run of 2026-12-06: its dynamic threshold depends on where the freed chunks lie), so the defaults
    // get up to three fresh processes to show the difference.
    const kept = faults({});
    expect(kept).toBeLessThan(15_000);
    let unkept = 0;
    for (let tries = 0; tries < 3 && unkept <= Math.max(20_480, 3 * kept); tries++) unkept = faults({ ARITH_KEEP_HEAP: '0' });
    expect(unkept).toBeGreaterThan(Math.max(20_480, 3 * kept));
  });
});
