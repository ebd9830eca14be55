import { FUSED_KERNELS, type LayerNormAttrs } from '../../../contracts/kernels.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/** ArithLayerNorm and its gradient (src/contracts/kernels.ts): ATen's native_layer_norm and its backward. */
export const layerNormKernels: TorchKernel[] = [
  kernel<LayerNormAttrs>(FUSED_KERNELS.layerNorm, ({ inputs: { x, gain, bias }, backend, attrs }) =>
    backend.outputs(fusedNative(backend).fusedLayerNorm(backend.slot(x), backend.slot(gain), backend.slot(bias), attrs.epsilon)),
  ),
  kernel(FUSED_KERNELS.layerNormGrad, ({ inputs: { dy, x, mean, rstd, gain, bias }, backend }) => {
    const slot = (t: typeof x) => backend.slot(t);
    return backend.outputs(fusedNative(backend).fusedLayerNormGrad(slot(dy), slot(x), slot(mean), slot(rstd), slot(gain), slot(bias)));
  }),
];
