import { FUSED_KERNELS, type AttentionAttrs, type QkvAttentionAttrs } from '../../../contracts/kernels.ts';
import { kernel, type TorchKernel } from '../kernels/kernel.ts';
import { fusedNative } from './native.ts';

/**
 * ArithAttention and its gradient (src/contracts/kernels.ts): softmax(q kᵀ scale + bias) v, one call each way;
 * and ArithQkvAttention, the same from the q|k|v projection to the heads' outputs side by side.
 */
export const attentionKernels: TorchKernel[] = [
  kernel<AttentionAttrs>(FUSED_KERNELS.attention, ({ inputs: { q, k, v, bias }, backend, attrs }) =>
    backend.outputs(
      fusedNative(backend).fusedAttention(backend.slot(q), backend.slot(k), backend.slot(v), backend.slot(bias), attrs.scale),
    ),
  ),
  kernel<AttentionAttrs>(FUSED_KERNELS.attentionGrad, ({ inputs: { dy, q, k, v, pattern }, backend, attrs }) =>
    backend.outputs(
      fusedNative(backend).fusedAttentionGrad(
        backend.slot(dy),
        backend.slot(q),
        backend.slot(k),
        backend.slot(v),
        backend.slot(pattern),
        attrs.scale,
      ),
    ),
  ),
  kernel<QkvAttentionAttrs>(FUSED_KERNELS.qkvAttention, ({ inputs: { qkv, bias }, backend, attrs }) =>
    backend.outputs(fusedNative(backend).fusedQkvAttention(backend.slot(qkv), backend.slot(bias), attrs.heads, attrs.scale)),
  ),
  kernel<QkvAttentionAttrs>(FUSED_KERNELS.qkvAttentionGrad, ({ inputs: { dy, qkv, pattern }, backend, attrs }) => {
    const grads = fusedNative(backend).fusedQkvAttentionGrad(
      backend.slot(dy),
      backend.slot(qkv),
      backend.slot(pattern),
      attrs.heads,
      attrs.scale,
      attrs.biasShape,
    );
    return Array.isArray(grads) ? backend.outputs(grads) : backend.output(grads);
  }),
];
