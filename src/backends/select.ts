import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { BACKEND_NAMES, DEVICE_NAMES } from '../contracts/backendNames.ts';
import { UserError } from '../errors.ts';
import { matmulPrecisionFromEnv } from './matmulPrecision.ts';
import { registerTorchBackend, torchBackend, torchUnavailableReason } from './torch/index.ts';

function torchDevice(): string | null {
  return torchBackend()?.native.info().device ?? null;
}

function torchInfo(): string {
  const info = torchBackend()!.native.info();
  const precision =
    info.matmulPrecision === 'highest'
      ? ''
      : `, float32 matmul precision ${info.matmulPrecision}${info.matmulPrecision === 'high' ? ' (TF32)' : ''}`;
  return `${info.torch}, ${info.device}, ${info.threads} threads${info.device === 'cpu' ? `, OpenBLAS ${info.openblas === 'none' ? 'not found' : 'found'}` : ''}${precision}`;
}

/**
 * The torch engine's float32 matmul precision while it is the active backend and not the default 'highest'
 * (TF32 changes every product's last bits, so run.json records it), else null.
 */
export function engineMatmulPrecision(): string | null {
  if (tf.getBackend() !== 'torch') return null;
  const precision = torchBackend()?.native.info().matmulPrecision ?? 'highest';
  return precision === 'highest' ? null : precision;
}

/**
 * The torch engine's intra-op threads while it is the active backend, else null. Float sums are split by
 * thread, so a loss curve repeats bit for bit only on the same backend, device and thread count.
 */
export function engineThreads(): number | null {
  return tf.getBackend() === 'torch' ? (torchBackend()?.native.info().threads ?? null) : null;
}

export type BackendName = (typeof BACKEND_NAMES)[number];
export type DeviceName = (typeof DEVICE_NAMES)[number];

const require = createRequire(import.meta.url);

/** Optional packages are loaded by name at run time so they never become hard dependencies. */
async function importOptional(name: string): Promise<unknown | null> {
  try {
    return await import(name);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(String(error))) {
      return null;
    }
    throw error;
  }
}

async function setUpWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // In Node the backend cannot locate its .wasm files by URL; point it at the package's dist folder.
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dist + path.sep);
}

async function setUpTensorflow(): Promise<void> {
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    if (await importOptional(name)) return;
  }
  throw new UserError(
    'backend "tensorflow" needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither is installed ' +
      '(install one with npm; it is not a dependency because its install downloads libtensorflow)',
    { field: 'backend' },
  );
}

async function setUpWebgpu(): Promise<void> {
  const dawn = (await importOptional('webgpu')) as { create?: (flags: string[]) => GPU; globals?: object } | null;
  if (!dawn?.create) {
    throw new UserError('backend "webgpu" needs the npm package "webgpu" (Dawn for Node): npm install webgpu', { field: 'backend' });
  }
  Object.assign(globalThis, dawn.globals ?? {});
  const gpu = dawn.create([]);
  Object.defineProperty(globalThis.navigator ?? Object.assign(globalThis, { navigator: {} }).navigator, 'gpu', {
    value: gpu,
    configurable: true,
  });
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new UserError('backend "webgpu": no WebGPU adapter found (is a Vulkan driver installed?)', { field: 'backend' });
  }
  await import('@tensorflow/tfjs-backend-webgpu' as string).catch(() => {
    throw new UserError('backend "webgpu" needs @tensorflow/tfjs-backend-webgpu: npm install @tensorflow/tfjs-backend-webgpu', {
      field: 'backend',
    });
  });
}

/** libtorch through native/torch (npm run build:torch); device cuda needs a CUDA libtorch and a GPU. */
async function setUpTorch(device: DeviceName): Promise<void> {
  const reason = torchUnavailableReason();
  if (reason) throw new UserError(`backend "torch": ${reason}`, { field: 'backend' });
  const matmulPrecision = matmulPrecisionFromEnv();
  try {
    registerTorchBackend({ device, matmulPrecision });
  } catch (error) {
    throw new UserError(`backend "torch" cannot use device "${device}": ${(error as Error).message}`, { field: 'device' });
  }
}

let announced = false;

/**
 * Makes `name` the active tfjs backend and returns the name actually in use.
 * `auto` picks the fastest available engine on this machine: torch when its addon is built, else wasm (and
 * says once why not torch). `device` places torch's tensors; the other backends ignore it.
 */
export async function selectBackend(
  name: BackendName,
  log: (line: string) => void = () => {},
  device: DeviceName = 'cpu',
): Promise<string> {
  let resolved = name === 'auto' ? 'torch' : name;
  if (name === 'auto') {
    const reason = torchUnavailableReason();
    if (reason) {
      resolved = 'wasm';
      if (!announced) log(`${reason}; using wasm`);
    }
  }
  // Already active: set nothing up twice (a second Dawn instance would pull the device from under tfjs).
  if (tf.getBackend() === resolved && (resolved !== 'torch' || torchDevice() === device)) return resolved;
  if (resolved === 'torch') await setUpTorch(device);
  if (resolved === 'wasm') await setUpWasm();
  if (resolved === 'tensorflow') await setUpTensorflow();
  if (resolved === 'webgpu') await setUpWebgpu();
  const tfName = resolved === 'tensorflow' ? 'tensorflow' : resolved;
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new UserError(`backend "${resolved}" failed to initialise`, { field: 'backend' });
  await tf.ready();
  if (!announced) {
    const detail = tf.getBackend() === 'torch' ? ` (libtorch ${torchInfo()})` : '';
    log(`backend: ${tf.getBackend()}${name === 'auto' ? ' (auto)' : ''}${detail}`);
    announced = true;
  }
  return tf.getBackend();
}
