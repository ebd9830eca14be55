import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { type MatmulPrecision, matmulPrecisionFromEnv } from '../matmulPrecision.ts';
import { threadsFromEnv } from '../threads.ts';
import { loadAddon, type TorchAddon } from './addon.ts';
import { TorchBackend } from './backend.ts';
import { BACKEND_NAME, registerTorchKernels } from './register.ts';

export type TorchDevice = 'cpu' | 'cuda';

export interface TorchOptions {
  device?: TorchDevice;
  /** Intra-op threads (ATen and OpenBLAS); default: $ARITH_THREADS, else the cores this process may use. */
  threads?: number;
  /** Float32 matmul precision; default: $ARITH_MATMUL_PRECISION, else 'highest'. */
  matmulPrecision?: MatmulPrecision;
}

/**
 * Threads when none are asked for: ARITH_THREADS (e.g. cores / N for `reproduce --jobs N`, so N trainings share
 * the cores instead of each taking all of them), else every core this process may use.
 */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  return threadsFromEnv(env) ?? os.availableParallelism();
}

/** Why the torch backend cannot run here (one line), or null when it can. */
export function torchUnavailableReason(): string | null {
  const loaded = loadAddon();
  return 'error' in loaded ? loaded.error : null;
}

let backend: TorchBackend | null = null;

/**
 * Loads the addon, registers the 'torch' backend and its kernels (once per process) and sets threads and
 * device. Does not make it the active backend: tf.setBackend('torch') does.
 */
export function registerTorchBackend(options: TorchOptions = {}): TorchBackend {
  const loaded = loadAddon();
  if ('error' in loaded) throw new Error(loaded.error);
  const native: TorchAddon = loaded.addon;
  native.setNumThreads(options.threads ?? defaultThreads());
  // ARITH_KEEP_HEAP=0 leaves glibc's defaults, to measure what keeping the heap buys (docs/results.md).
  if (!backend && process.env.ARITH_KEEP_HEAP !== '0') native.keepHeap();
  native.setDevice(options.device ?? 'cpu');
  native.setMatmulPrecision(options.matmulPrecision ?? matmulPrecisionFromEnv());
  if (!backend) {
    const created = new TorchBackend(native);
    backend = created;
    registerTorchKernels();
    tf.registerBackend(BACKEND_NAME, () => created);
  }
  return backend;
}

/** The registered backend instance (for transfer statistics and the native handle), if any. */
export function torchBackend(): TorchBackend | null {
  return backend;
}

/** Bytes the addon has copied from JavaScript buffers into native tensors so far (constant buffers become native
 * fills and do not count); 0 before the torch backend is registered. */
export const uploadedBytes = (): number => backend?.native.transferStats().uploadedBytes ?? 0;
