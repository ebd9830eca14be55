import type { TorchKernel } from '../kernels/kernel.ts';
import { adamWKernels } from './adamW.ts';
import { attentionKernels } from './attention.ts';
import { crossEntropyKernels } from './crossEntropy.ts';
import { geluKernels } from './gelu.ts';
import { gradNormKernels } from './gradNorm.ts';
import { layerNormKernels } from './layerNorm.ts';
import { linearKernels } from './linear.ts';

/** The torch backend's fused kernels: src/contracts/kernels.ts names them, src/models/fused.ts calls them (and falls
 * back to composed ops without them). */
export const fusedKernels: TorchKernel[] = [
  ...linearKernels,
  ...layerNormKernels,
  ...geluKernels,
  ...attentionKernels,
  ...crossEntropyKernels,
  ...gradNormKernels,
  ...adamWKernels,
];
