import type { Example, ExampleRoles } from './formats/format.ts';
import type { TokenRole } from '../contracts/tokenRoles.ts';
import { BOS_ID, EOS_ID, PAD_ID, type Tokenizer } from './tokenizer.ts';

/** A batch as flat typed arrays, ready to become tensors; [batch, seqLen] row-major. */
export interface TokenBatch {
  batch: number;
  seqLen: number;
  /** Tokens fed to the model: `<bos>` prompt target (padding). */
  inputs: Int32Array;
  /** The next token at each input position: prompt target `<eos>` (padding). */
  targets: Int32Array;
  /** 1 where the target token carries loss. */
  lossMask: Float32Array;
  /** 1 where the target token belongs to the answer (target text or its `<eos>`). */
  answerMask: Float32Array;
  /** Per row, the role of each input token (padding not included), when the format's roles were asked for. */
  roles?: TokenRole[][];
  /** Position id of each input token, [batch, seqLen]; absent: positions 0..seqLen-1 (set by the trainer). */
  positions?: Int32Array;
  /** Running-sum targets ĉ_k at the positions that write answer digit k (src/data/runningSum.ts), when asked for. */
  auxTargets?: { values: Float32Array; mask: Float32Array };
}

const SPECIAL: TokenRole = { kind: 'special', significance: null };

/**
 * Roles of `<bos>` prompt target `<eos>`, one per id of tokenizeExample. The format's roles must count its
 * tokens exactly; a mismatch is a bug in the format, caught here rather than as shifted positions.
 */
export function sequenceRoles(example: Example, roles: ExampleRoles, tokenizer: Tokenizer): TokenRole[] {
  for (const part of ['prompt', 'target'] as const) {
    const tokens = tokenizer.encode(example[part]).length;
    if (roles[part].length !== tokens) {
      throw new Error(
        `the format declares ${roles[part].length} roles for the ${tokens} tokens of ${part} ${JSON.stringify(example[part])}`,
      );
    }
  }
  return [SPECIAL, ...roles.prompt, ...roles.target, SPECIAL];
}

/** `<bos>` + prompt + target + `<eos>`; the prompt length (with `<bos>`) says where the answer starts. */
export function tokenizeExample(example: Example, tokenizer: Tokenizer): { ids: number[]; promptLength: number } {
  const prompt = [BOS_ID, ...tokenizer.encode(example.prompt)];
  return { ids: [...prompt, ...tokenizer.encode(example.target), EOS_ID], promptLength: prompt.length };
}

/**
 * Right-pads examples to the longest in the batch. Right padding never changes earlier positions under a
 * causal mask, so the logits of real tokens are independent of how the batch was padded.
 */
export function encodeBatch(
  examples: Example[],
  tokenizer: Tokenizer,
  lossOn: 'answer' | 'all',
  roles?: readonly ExampleRoles[],
): TokenBatch {
  const tokenized = examples.map((e) => tokenizeExample(e, tokenizer));
  const seqLen = Math.max(...tokenized.map((t) => t.ids.length)) - 1;
  const batch = examples.length;
  const inputs = new Int32Array(batch * seqLen).fill(PAD_ID);
  const targets = new Int32Array(batch * seqLen).fill(PAD_ID);
  const lossMask = new Float32Array(batch * seqLen);
  const answerMask = new Float32Array(batch * seqLen);
  tokenized.forEach(({ ids, promptLength }, row) => {
    for (let t = 0; t < ids.length - 1; t++) {
      const at = row * seqLen + t;
      inputs[at] = ids[t];
      targets[at] = ids[t + 1];
      const isAnswer = t + 1 >= promptLength;
      answerMask[at] = isAnswer ? 1 : 0;
      lossMask[at] = lossOn === 'all' || isAnswer ? 1 : 0;
    }
  });
  const encoded: TokenBatch = { batch, seqLen, inputs, targets, lossMask, answerMask };
  // The last token (`<eos>`) is only ever a target, so its role is not an input's.
  if (roles) encoded.roles = examples.map((example, row) => sequenceRoles(example, roles[row], tokenizer).slice(0, -1));
  return encoded;
}

/**
 * Flat indices (row·seqLen + t) of the positions training reads: those that carry loss or a running-sum target.
 * The model computes its last block's MLP and head only there (ForwardOptions.rows).
 */
export function readPositions(batch: TokenBatch): Int32Array {
  const aux = batch.auxTargets?.mask;
  const read: number[] = [];
  for (let at = 0; at < batch.lossMask.length; at++) if (batch.lossMask[at] > 0 || (aux && aux[at] > 0)) read.push(at);
  return Int32Array.from(read);
}

/** values[rows], for per-position arrays of a batch. */
export function pickRows<T extends Float32Array | Int32Array>(values: T, rows: Int32Array): T {
  const picked = new (values.constructor as new (length: number) => T)(rows.length);
  rows.forEach((at, i) => {
    picked[i] = values[at];
  });
  return picked;
}

/** Tokens of the longest example (with `<bos>` and `<eos>`), to check sequences fit the model. */
export function sequenceLength(example: Example, tokenizer: Tokenizer): number {
  return tokenizeExample(example, tokenizer).ids.length;
}
