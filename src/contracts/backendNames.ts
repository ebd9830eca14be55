/**
 * The tensor engines and torch devices a config or the command line may name. Plain lists, so reading a config
 * does not load the engines (src/backends/select.ts sets them up).
 */
export const BACKEND_NAMES = ['auto', 'torch', 'wasm', 'cpu', 'webgpu', 'tensorflow'] as const;
export const DEVICE_NAMES = ['cpu', 'cuda'] as const;
