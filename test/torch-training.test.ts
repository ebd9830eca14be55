import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { uploadedBytes } from '../src/backends/torch/index.ts';
import { trainParityModel } from './harness/parity.ts';
import { trainingBatch } from '../src/experiments/train.ts';
import { modelTensors, restoreModel } from '../src/experiments/checkpoint.ts';
import { modelDecoder } from '../src/inference/decode.ts';
import { predict } from '../src/inference/predict.ts';
import { dropout } from '../src/models/ops.ts';
import { POSITIONAL_NAMES } from '../src/models/positional/index.ts';
import { modelCapture } from '../src/probes/run.ts';
import { describeTorch } from './fixtures/torch.ts';

const STEPS = 20;

/**
 * The torch backend trains the lab's GPT as the cpu backend does: for every positional encoding, 20 AdamW
 * steps from one seed give the same losses (to 1e-4 relative), tensors do not pile up, and greedy decoding
 * (with the key/value cache) and attention capture give the same results from the same weights.
 */
describeTorch('training on torch matches cpu', () => {
  beforeAll(async () => {
    await selectBackend('torch');
  });
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('dropout draws its masks on the device: reproducible per seed, about `rate` dropped, no upload', async () => {
    await selectBackend('torch');
    const x = tf.ones([64, 32, 128]);
    const uploaded = uploadedBytes();
    const [a, b, c] = [dropout(x, 0.25, 11), dropout(x, 0.25, 11), dropout(x, 0.25, 12)];
    expect(uploadedBytes()).toBe(uploaded);
    const [va, vb, vc] = await Promise.all([a.data(), b.data(), c.data()]);
    expect(Array.from(va)).toEqual(Array.from(vb));
    expect(Array.from(va)).not.toEqual(Array.from(vc));
    const dropped = va.filter((v) => v === 0).length / va.length;
    expect(Math.abs(dropped - 0.25)).toBeLessThan(0.01);
    expect(va.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    tf.dispose([x, a, b, c]);
  });

  for (const pos of POSITIONAL_NAMES) {
    it(`${pos}: ${STEPS} steps, decoding and attention patterns`, async () => {
      const cpu = await trainParityModel('cpu', pos, STEPS);
      const cpuWeights = await modelTensors(cpu.model);
      const torch = await trainParityModel('torch', pos, STEPS);
      expect(torch.losses[STEPS - 1]).toBeLessThan(torch.losses[0]);
      for (let i = 0; i < STEPS; i++) expect(Math.abs(torch.losses[i] - cpu.losses[i]) / cpu.losses[i]).toBeLessThan(1e-4);
      // Flat after the first step (which creates the optimizer's moments).
      expect(new Set(torch.tensorCounts.slice(1)).size).toBe(1);
      // Per step the batch (token ids, targets, loss mask) crosses from JavaScript, and little else.
      expect(Math.max(...torch.uploads)).toBeLessThanOrEqual(torch.batchBytes + 4096);

      // Same weights on both: load the cpu-trained weights into the torch model.
      restoreModel(torch.model, cpuWeights);
      const problems = cpu.stream.next(12, 1);
      const sequence = trainingBatch(cpu.model, cpu.experiment, [problems[0]], 0);
      const ids = Array.from(sequence.inputs);
      const decodedTorch = await predict(modelDecoder(torch.model), torch.experiment, problems);
      const captureTorch = await modelCapture(torch.model)([ids], ['blocks.1.attn.pattern'], sequence.roles);
      await selectBackend('cpu');
      const decodedCpu = await predict(modelDecoder(cpu.model), cpu.experiment, problems);
      const captureCpu = await modelCapture(cpu.model)([ids], ['blocks.1.attn.pattern'], sequence.roles);
      expect(decodedTorch.map((p) => p.output)).toEqual(decodedCpu.map((p) => p.output));
      const a = captureTorch[0].get('blocks.1.attn.pattern')!.values;
      const b = captureCpu[0].get('blocks.1.attn.pattern')!.values;
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
      cpu.model.dispose();
      await selectBackend('torch');
      torch.model.dispose();
    });
  }
});
