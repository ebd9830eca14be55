import * as tf from '@tensorflow/tfjs';
import { EOS_ID, PAD_ID } from '../data/tokenizer.ts';
import type { Gpt } from '../models/gpt.ts';

/** Largest number of sequences decoded in one forward pass. */
const DECODE_BATCH = 256;

/**
 * Greedy decoding. `prompts` are token ids starting with `<bos>`; each generates until `<eos>` or its own
 * `maxNew` tokens. Prompts of equal length are decoded together, so no padding ever shifts a position.
 * Returns the generated ids, without the `<eos>`.
 */
export function greedyDecode(model: Gpt, prompts: number[][], maxNew: number[]): number[][] {
  const outputs: number[][] = prompts.map(() => []);
  const groups = new Map<number, number[]>();
  prompts.forEach((p, i) => groups.set(p.length, [...(groups.get(p.length) ?? []), i]));
  for (const members of groups.values()) {
    for (let start = 0; start < members.length; start += DECODE_BATCH) {
      decodeGroup(model, prompts, maxNew, members.slice(start, start + DECODE_BATCH), outputs);
    }
  }
  return outputs;
}

function decodeGroup(model: Gpt, prompts: number[][], maxNew: number[], rows: number[], outputs: number[][]): void {
  const sequences = rows.map((i) => [...prompts[i]]);
  const done = rows.map((i) => maxNew[i] <= 0);
  const limit = Math.max(...rows.map((i) => maxNew[i]));
  for (let step = 0; step < limit && done.some((d) => !d); step++) {
    const seqLen = sequences[0].length;
    const next = tf.tidy(() => {
      const tokens = tf.tensor2d(sequences.flat(), [sequences.length, seqLen], 'int32');
      const logits = model.forward(tokens, { training: false });
      const last = tf.slice(logits, [0, seqLen - 1, 0], [sequences.length, 1, logits.shape[2]]);
      return tf.argMax(last.reshape([sequences.length, logits.shape[2]]), 1);
    });
    const ids = next.dataSync();
    next.dispose();
    rows.forEach((row, r) => {
      if (done[r]) {
        sequences[r].push(PAD_ID);
        return;
      }
      const id = ids[r];
      sequences[r].push(id);
      if (id === EOS_ID) done[r] = true;
      else {
        outputs[row].push(id);
        if (outputs[row].length >= maxNew[row]) done[r] = true;
      }
    });
  }
}
