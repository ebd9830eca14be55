import * as tf from '@tensorflow/tfjs';
import { createRandom } from '../random.ts';
import { auxHeadPrefix } from './auxHeadNames.ts';
import { blockMlp, blockWidth, isGated, type MlpSetting, type MlpWidth, mlpHidden } from './mlp.ts';
import { type AttentionOptions, attention, dropout, embed, layerNorm, linear, qkvAttention, takeRows } from './ops.ts';
import type { TokenRole } from '../contracts/tokenRoles.ts';
import { getPositionalEncoding, type PositionalName, type PositionalOptions } from './positional/index.ts';
import { positionIds } from './positional/positionIds.ts';
import type { ModelShape, ParameterSpec, PositionalEncoding, PositionDraw } from './positional/positional.ts';

export interface GptConfig extends ModelShape, PositionalOptions {
  vocabSize: number;
  /** The MLP width, one for every block or one per block (src/models/mlp.ts). */
  dFf: MlpWidth;
  dropout: number;
  pos: PositionalName;
  tieEmbeddings: boolean;
  /**
   * Passes through the block of layers (default 1): a looped model with input injection (McLeish et al. 2024,
   * Fan et al. 2025), h_0 = 0 and h_r = blocks(h_{r-1} + embeddings), so R = 1 is the plain model. The same
   * weights run any number of passes, so R may be raised at evaluation.
   */
  recurrence?: number;
  /**
   * Scalable-Softmax (Nakanishi 2025; the ln n scaling of Chiang & Cholak 2022): the query at sequence index t
   * sees n = t + 1 keys and its logits q·k/sqrt(d_head) are multiplied by ln(n), so a key that stands out keeps
   * its weight when a longer sequence adds more keys to the softmax. Additive biases are not scaled.
   */
  lengthScaledAttention?: boolean;
  /**
   * Linear heads for the running-sum auxiliary loss (train.aux_loss; src/models/auxLoss.ts): `residual`, one head
   * `aux_head.weight` [d, 1] and `aux_head.bias` [1]; `heads`, one head per attention head, `aux_head.weight`
   * [heads, d_head] and no bias (Bai et al.'s code). Only training reads them; forward, decoding and probes never do.
   */
  auxHead?: 'residual' | 'heads';
  /** The MLP (src/models/mlp.ts), one kind or one per block; absent: gelu. */
  mlp?: MlpSetting;
  /** Blocks (1-based) with a head of their own, named `aux_head.<layer>.*` when there are several; absent: one. */
  auxLayers?: readonly number[];
}

/** Called with every named activation during a forward pass (TransformerLens-style names). */
export type ActivationHook = (name: string, activation: tf.Tensor) => void;

/**
 * Keys and values of tokens already processed, per layer and pass (index pass * layers + layer;
 * [B, H, length, dHead]), for incremental decoding.
 * `forward` appends the new tokens' keys and values, keeps the new tensors and disposes the old ones.
 */
export interface KvCache {
  length: number;
  keys: tf.Tensor[];
  values: tf.Tensor[];
  /** Position ids of the cached tokens, [B, length], when the sequence has its own (ForwardOptions.positions). */
  positions?: tf.Tensor2D;
}

export function disposeKvCache(cache: KvCache): void {
  tf.dispose([...cache.keys, ...cache.values, ...(cache.positions ? [cache.positions] : [])]);
}

export interface ForwardOptions {
  training: boolean;
  /** Continue from these cached tokens (generation); positions start at `cache.length`. */
  cache?: KvCache;
  /**
   * Position id of each new token, [B, T] int32, where the encoding gives sequences their own (see
   * src/models/positional/positionIds.ts); absent: 0..T-1 after the cache. With a cache, the cache keeps them.
   */
  positions?: tf.Tensor2D;
  /** Seed for this pass's dropout masks; ignored when not training or dropout is 0. */
  dropoutSeed?: number;
  hook?: ActivationHook;
  /**
   * Whether `hook` sees the attention patterns (`blocks.{i}.attn.pattern`); default true. A pattern exists only on
   * the composed attention path, so a hook that does not need them (the auxiliary loss) keeps the fused kernel.
   */
  hookPatterns?: boolean;
  /**
   * The only positions whose outputs are read (training reads the loss's): flat indices b·T + t, int32. The last
   * block still attends from every token, then cuts its stream to these rows, so its projection, MLP, the final
   * norm and the head run on N rows; activations from there on and the logits come back [1, N, ...].
   */
  rows?: tf.Tensor1D;
}

const INIT_STD = 0.02;

/** Parameter names and shapes, GPT-2/nanoGPT style. Linear weights are stored [in, out]. */
export function parameterSpecs(config: GptConfig, pe: PositionalEncoding<PositionalOptions>): ParameterSpec[] {
  const d = config.dModel;
  const specs: ParameterSpec[] = [{ name: 'wte.weight', shape: [config.vocabSize, d], init: 'normal' }];
  specs.push(...pe.parameters(config, config));
  for (let i = 0; i < config.layers; i++) {
    const p = `blocks.${i}`;
    const dFf = blockWidth(config.dFf, i);
    specs.push(
      { name: `${p}.ln_1.weight`, shape: [d], init: 'ones' },
      { name: `${p}.ln_1.bias`, shape: [d], init: 'zeros' },
      { name: `${p}.attn.c_attn.weight`, shape: [d, 3 * d], init: 'normal' },
      { name: `${p}.attn.c_attn.bias`, shape: [3 * d], init: 'zeros' },
      { name: `${p}.attn.c_proj.weight`, shape: [d, d], init: 'normal' },
      { name: `${p}.attn.c_proj.bias`, shape: [d], init: 'zeros' },
      { name: `${p}.ln_2.weight`, shape: [d], init: 'ones' },
      { name: `${p}.ln_2.bias`, shape: [d], init: 'zeros' },
      { name: `${p}.mlp.c_fc.weight`, shape: [d, dFf], init: 'normal' },
      { name: `${p}.mlp.c_fc.bias`, shape: [dFf], init: 'zeros' },
      ...(isGated(blockMlp(config.mlp, i))
        ? [
            { name: `${p}.mlp.c_gate.weight`, shape: [d, dFf], init: 'normal' as const },
            { name: `${p}.mlp.c_gate.bias`, shape: [dFf], init: 'zeros' as const },
          ]
        : []),
      { name: `${p}.mlp.c_proj.weight`, shape: [dFf, d], init: 'normal' },
      { name: `${p}.mlp.c_proj.bias`, shape: [d], init: 'zeros' },
    );
  }
  specs.push({ name: 'ln_f.weight', shape: [d], init: 'ones' }, { name: 'ln_f.bias', shape: [d], init: 'zeros' });
  if (!config.tieEmbeddings) specs.push({ name: 'lm_head.weight', shape: [d, config.vocabSize], init: 'normal' });
  const auxLayers = config.auxLayers ?? [1];
  for (const layer of config.auxHead ? auxLayers : []) {
    const p = auxHeadPrefix(layer, auxLayers);
    if (config.auxHead === 'residual')
      specs.push({ name: `${p}.weight`, shape: [d, 1], init: 'normal' }, { name: `${p}.bias`, shape: [1], init: 'zeros' });
    if (config.auxHead === 'heads') specs.push({ name: `${p}.weight`, shape: [config.heads, d / config.heads], init: 'normal' });
  }
  return specs;
}

/**
 * Initial values drawn from the run seed in JavaScript, so every backend starts from identical weights.
 * N(0, 0.02) everywhere, residual projections (`c_proj`) scaled by 1/sqrt(2 * layers) as in GPT-2.
 */
function initialValues(spec: ParameterSpec, config: GptConfig, seed: number): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  const init = spec.init;
  if (init === 'ones') values.fill(1);
  if (typeof init === 'object' && 'constant' in init) values.fill(init.constant);
  const random = createRandom(seed, `init:${spec.name}`);
  if (typeof init === 'object' && 'uniform' in init) {
    for (let i = 0; i < size; i++) values[i] = (2 * random.next() - 1) * init.uniform;
  }
  if (init !== 'normal') return values;
  const std = spec.name.endsWith('c_proj.weight') ? INIT_STD / Math.sqrt(2 * config.layers) : INIT_STD;
  for (let i = 0; i < size; i++) values[i] = random.normal() * std;
  return values;
}

/** Decoder-only transformer: pre-LayerNorm GPT blocks, GELU MLP, final LayerNorm, output projection. */
export class Gpt {
  readonly params: Record<string, tf.Variable>;
  readonly pe: PositionalEncoding<PositionalOptions>;

  constructor(
    readonly config: GptConfig,
    seed: number,
  ) {
    if (config.dModel % config.heads !== 0) {
      throw new Error(`d_model ${config.dModel} is not divisible by heads ${config.heads}`);
    }
    this.pe = getPositionalEncoding(config.pos);
    this.params = {};
    for (const spec of parameterSpecs(config, this.pe)) {
      // Unnamed variables: tfjs names are process-global, and two models (or a model and its resumed copy)
      // must be able to coexist. Parameters are addressed by their key in `params`.
      this.params[spec.name] = tf.tidy(() => tf.variable(tf.tensor(initialValues(spec, config, seed), spec.shape), true));
    }
  }

  /**
   * Position ids of one sequence (`<bos>` first) from its tokens' roles: null where they are 0..n-1. `draw`
   * says whether to draw them as in training (random starts, offsets, subsets) or as in evaluation.
   */
  positionIds(roles: readonly TokenRole[], draw: PositionDraw): number[] | null {
    return positionIds(this.pe, this.config, roles, draw);
  }

  /** The block whose activations `forward` cuts to `options.rows`: the last block of the last pass. */
  get lastBlockName(): string {
    const passes = this.config.recurrence ?? 1;
    const block = `blocks.${this.config.layers - 1}`;
    return passes === 1 ? block : `pass${passes - 1}.${block}`;
  }

  get parameterCount(): number {
    return Object.values(this.params).reduce((n, v) => n + v.size, 0);
  }

  /**
   * Logits [B, T, vocab] for token ids [B, T] (int32); [1, N, vocab] with `options.rows`. Causal: position t sees
   * tokens 0..t only. With a cache, the tokens continue the cached sequence and the cache grows by T.
   */
  forward(tokens: tf.Tensor2D, options: ForwardOptions): tf.Tensor3D {
    const { config, params, pe } = this;
    const [batch, seqLen] = tokens.shape;
    const heads = config.heads;
    const dHead = config.dModel / heads;
    const hook = options.hook ?? (() => {});
    const drop = (x: tf.Tensor, salt: number) =>
      options.training ? dropout(x, config.dropout, (options.dropoutSeed ?? 0) * 1000 + salt) : x;
    const cache = options.cache;
    const offset = cache?.length ?? 0;
    const keyLength = offset + seqLen;
    const positionIds = options.positions;
    let keyPositionIds = positionIds;
    if (positionIds && cache) {
      if (offset > 0 && !cache.positions) throw new Error('position ids continue a cache that was filled without them');
      keyPositionIds = cache.positions ? tf.concat([cache.positions, positionIds], 1) : positionIds;
      if (cache.positions) tf.dispose(cache.positions);
      cache.positions = tf.keep(keyPositionIds.clone());
    }
    const context = {
      positions: tf.range(offset, keyLength, 1, 'int32') as tf.Tensor1D,
      keyPositions: tf.range(0, keyLength, 1, 'int32') as tf.Tensor1D,
      ...(positionIds && { positionIds, keyPositionIds }),
      seqLen,
      offset,
      params,
      shape: config,
      options: config,
    };

    let x = embed(tokens, params['wte.weight']);
    if (pe.embed) x = pe.embed(x, context);
    x = drop(x, 0);
    hook('embed', x);
    const embeddings = x;

    // Causal mask as an additive bias, built on the device: 0 where key <= query (query i sits at offset + i),
    // -1e9 where the key lies in the future.
    const lower = tf.linalg.bandPart(tf.ones([seqLen, keyLength]), -1, offset);
    let attentionBias: tf.Tensor = tf.mul(tf.sub(1, lower), -1e9);
    if (pe.attentionBias) attentionBias = tf.add(attentionBias, pe.attentionBias(context));
    // A learned bias (T5, FIRE) needs its gradient from the attention; a constant one does not.
    const learnedBias = options.training && pe.learnedBias === true;

    // ln(number of keys) per query, [1, 1, T, 1]: scales q, hence q·k, under any attention kernel.
    const logKeys = config.lengthScaledAttention ? tf.log(tf.add(context.positions, 1).toFloat()).reshape([1, 1, seqLen, 1]) : null;
    const splitHeads = (t: tf.Tensor) => t.reshape([batch, seqLen, heads, dHead]).transpose([0, 2, 1, 3]);
    // A looped model runs the layers `recurrence` times: slot = pass * layers + layer indexes the cache and the
    // dropout salts; pass 0 keeps the plain model's activation names, later passes are prefixed `pass<r>.`.
    const slots = (config.recurrence ?? 1) * config.layers;
    for (let slot = 0; slot < slots; slot++) {
      const i = slot % config.layers;
      const p = `blocks.${i}`;
      const pass = Math.floor(slot / config.layers);
      const name = pass === 0 ? p : `pass${pass}.${p}`;
      // Input injection: every pass after the first adds the embeddings again.
      if (pass > 0 && i === 0) x = tf.add(x, embeddings);
      const h = layerNorm(x, params[`${p}.ln_1.weight`], params[`${p}.ln_1.bias`]);
      let qkv = linear(h, params[`${p}.attn.c_attn.weight`], params[`${p}.attn.c_attn.bias`]);
      // RoPE rotates q and k in the projection itself, so that every attention path below can start from it.
      if (pe.rotate) qkv = pe.rotate(qkv, context);
      // softmax(q kᵀ / sqrt(dHead) + bias) v: one fused kernel on backends that have it, unless the pattern is
      // hooked or dropped out; straight from qkv where q needs no scaling and there is no cache.
      const attentionOptions: AttentionOptions = {
        onPattern: options.hook && options.hookPatterns !== false ? (pattern) => hook(`${name}.attn.pattern`, pattern) : undefined,
        dropPattern: options.training && config.dropout > 0 ? (pattern) => drop(pattern, 10 * slot + 1) : undefined,
        learnedBias,
      };
      let attended = logKeys || cache ? null : qkvAttention(qkv, attentionBias, heads, attentionOptions);
      if (!attended) {
        let [q, k, v] = tf.split(qkv, 3, 2).map(splitHeads);
        if (logKeys) q = tf.mul(q, logKeys);
        if (cache) {
          if (cache.keys[slot]) [k, v] = [tf.concat([cache.keys[slot], k], 2), tf.concat([cache.values[slot], v], 2)];
          tf.dispose([cache.keys[slot], cache.values[slot]].filter(Boolean));
          [cache.keys[slot], cache.values[slot]] = [tf.keep(k), tf.keep(v)];
        }
        attended = attention(q, k, v, attentionBias, attentionOptions).transpose([0, 2, 1, 3]).reshape([batch, seqLen, config.dModel]);
      }
      // Past the last attention nothing mixes positions, so only the rows read need the rest.
      if (options.rows && slot === slots - 1) {
        attended = takeRows(attended, options.rows);
        x = takeRows(x, options.rows);
      }
      // The heads' outputs side by side (head h in columns h·d_head..), before the projection mixes them.
      hook(`${name}.attn.z`, attended);
      const attnOut = drop(linear(attended, params[`${p}.attn.c_proj.weight`], params[`${p}.attn.c_proj.bias`]), 10 * slot + 2);
      hook(`${name}.attn.out`, attnOut);
      x = tf.add(x, attnOut);
      const h2 = layerNorm(x, params[`${p}.ln_2.weight`], params[`${p}.ln_2.bias`]);
      const hidden = mlpHidden(blockMlp(config.mlp, i), h2, params, `${p}.mlp`);
      const mlpOut = drop(linear(hidden, params[`${p}.mlp.c_proj.weight`], params[`${p}.mlp.c_proj.bias`]), 10 * slot + 3);
      hook(`${name}.mlp.out`, mlpOut);
      x = tf.add(x, mlpOut);
      hook(`${name}.resid_post`, x);
    }
    if (cache) cache.length = keyLength;
    x = layerNorm(x, params['ln_f.weight'], params['ln_f.bias']);
    hook('ln_f', x);
    const head = config.tieEmbeddings ? tf.transpose(params['wte.weight']) : params['lm_head.weight'];
    const logits = linear(x, head) as tf.Tensor3D;
    hook('logits', logits);
    return logits;
  }

  dispose(): void {
    for (const v of Object.values(this.params)) v.dispose();
  }
}
