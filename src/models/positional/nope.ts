import type { PositionalEncoding } from './positional.ts';

/** NoPE (Kazemnejad'23): no positional signal at all; the causal mask alone breaks the symmetry. */
export const nope: PositionalEncoding = {
  name: 'nope',
  description: 'no positional encoding; the causal mask alone',
  extrapolates: true,
  parameters: () => [],
};
