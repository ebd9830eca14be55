import * as tf from '@tensorflow/tfjs';
import { EOS_ID } from '../data/tokenizer.ts';
import { disposeKvCache, type Gpt, type KvCache } from '../models/gpt.ts';

/**
 * Prompts (token ids from `<bos>`) and per-prompt token budgets in, generated ids out: greedyDecode's shape.
 * `positions`, where the model's encoding gives sequences position ids of their own: per prompt, the ids of
 * the prompt and of every token generation may feed back (null: 0, 1, 2, ...).
 */
export type Decoder = (prompts: number[][], maxNew: number[], positions?: (number[] | null)[]) => Promise<number[][]>;

export function modelDecoder(model: Gpt): Decoder {
  return (prompts, maxNew, positions) => greedyDecode(model, prompts, maxNew, positions);
}

/** Largest number of sequences decoded in one forward pass. */
const DECODE_BATCH = 512;

/**
 * Greedy decoding. `prompts` are token ids starting with `<bos>`; each generates until `<eos>` or its own
 * `maxNew` tokens. Prompts of equal length are decoded together, so no padding ever shifts a position; the
 * prompt runs once and each new token then costs one position thanks to the key/value cache.
 * Returns the generated ids, without the `<eos>`. Asynchronous: each step's ids are read with `await data()`,
 * since a synchronous read throws on tfjs-webgpu in Node (it needs OffscreenCanvas).
 */
export async function greedyDecode(
  model: Gpt,
  prompts: number[][],
  maxNew: number[],
  positions?: (number[] | null)[],
): Promise<number[][]> {
  const outputs: number[][] = prompts.map(() => []);
  const groups = new Map<number, number[]>();
  prompts.forEach((p, i) => groups.set(p.length, [...(groups.get(p.length) ?? []), i]));
  for (const members of groups.values()) {
    for (let start = 0; start < members.length; start += DECODE_BATCH) {
      await decodeGroup(model, { prompts, maxNew, positions }, members.slice(start, start + DECODE_BATCH), outputs);
    }
  }
  return outputs;
}

/** Argmax of the last position's logits for a [B, T] block of tokens (and their position ids), extending the cache. */
async function nextTokens(model: Gpt, tokens: number[], batch: number, cache: KvCache, positions?: number[]): Promise<Int32Array> {
  const next = tf.tidy(() => {
    const seqLen = tokens.length / batch;
    const ids = positions && tf.tensor2d(positions, [batch, seqLen], 'int32');
    const logits = model.forward(tf.tensor2d(tokens, [batch, seqLen], 'int32'), { training: false, cache, positions: ids });
    const vocab = logits.shape[2];
    const last = tf.slice(logits, [0, seqLen - 1, 0], [batch, 1, vocab]).reshape([batch, vocab]);
    return tf.argMax(last, 1);
  });
  try {
    return (await next.data()) as Int32Array;
  } finally {
    next.dispose();
  }
}

interface DecodeRequest {
  prompts: number[][];
  maxNew: number[];
  positions?: (number[] | null)[];
}

async function decodeGroup(model: Gpt, { prompts, maxNew, positions }: DecodeRequest, rows: number[], outputs: number[][]): Promise<void> {
  const batch = rows.length;
  const promptLength = prompts[rows[0]].length;
  // Position ids of the tokens at sequence indices [from, to) of every row; a row that ran past its own ids
  // (finished, its tokens ignored) takes its sequence index instead.
  const withIds = positions && rows.some((i) => positions[i]);
  const idsAt = (from: number, to: number) =>
    withIds
      ? rows.flatMap((i) =>
          Array.from({ length: to - from }, (_, t) => {
            const own = positions[i] ?? [];
            return own[from + t] ?? from + t;
          }),
        )
      : undefined;
  const done = rows.map((i) => maxNew[i] <= 0);
  const limit = Math.max(...rows.map((i) => maxNew[i]));
  if (limit <= 0) return;
  const cache: KvCache = { length: 0, keys: [], values: [] };
  try {
    let ids = await nextTokens(
      model,
      rows.flatMap((i) => prompts[i]),
      batch,
      cache,
      idsAt(0, promptLength),
    );
    for (let step = 0; ; step++) {
      rows.forEach((row, r) => {
        if (done[r]) return;
        if (ids[r] === EOS_ID) done[r] = true;
        else {
          outputs[row].push(ids[r]);
          if (outputs[row].length >= maxNew[row]) done[r] = true;
        }
      });
      if (step + 1 >= limit || done.every(Boolean)) break;
      // Finished rows keep decoding (their tokens are ignored); a causal model is unaffected row by row.
      // The token generated at step s sits at sequence index promptLength + s.
      ids = await nextTokens(model, Array.from(ids), batch, cache, idsAt(promptLength + step, promptLength + step + 1));
    }
  } finally {
    disposeKvCache(cache);
  }
}
