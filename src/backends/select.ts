import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UserError } from '../errors.ts';

export const BACKEND_NAMES = ['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

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
  Object.defineProperty(globalThis.navigator ?? Object.assign(globalThis, { navigator: {} }).navigator, 'gpu', { value: gpu, configurable: true });
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    throw new UserError('backend "webgpu": no WebGPU adapter found (is a Vulkan driver installed?)', { field: 'backend' });
  }
  await import('@tensorflow/tfjs-backend-webgpu' as string).catch(() => {
    throw new UserError('backend "webgpu" needs @tensorflow/tfjs-backend-webgpu: npm install @tensorflow/tfjs-backend-webgpu', { field: 'backend' });
  });
}

let announced = false;

/**
 * Makes `name` the active tfjs backend and returns the name actually in use.
 * `auto` picks the fastest available engine on this machine: wasm on a CPU-only box.
 */
export async function selectBackend(name: BackendName, log: (line: string) => void = () => {}): Promise<string> {
  const resolved = name === 'auto' ? 'wasm' : name;
  // Already active: set nothing up twice (a second Dawn instance would pull the device from under tfjs).
  if (tf.getBackend() === resolved) return resolved;
  if (resolved === 'wasm') await setUpWasm();
  if (resolved === 'tensorflow') await setUpTensorflow();
  if (resolved === 'webgpu') await setUpWebgpu();
  const tfName = resolved === 'tensorflow' ? 'tensorflow' : resolved;
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new UserError(`backend "${resolved}" failed to initialise`, { field: 'backend' });
  await tf.ready();
  if (!announced) {
    log(`backend: ${tf.getBackend()}${name === 'auto' ? ' (auto)' : ''}`);
    announced = true;
  }
  return tf.getBackend();
}
