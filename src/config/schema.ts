import { z } from 'zod';
import { BACKEND_NAMES, DEVICE_NAMES } from '../contracts/backendNames.ts';
import { FORMAT_NAMES } from '../data/formats/index.ts';
import { MLP_KINDS } from '../models/mlp.ts';
import { POSITIONAL_NAMES } from '../models/positional/index.ts';
import { positionalOptionFields } from './positionalOptions.ts';

/** [min, max] operand digits, inclusive. */
const digitRange = z
  .tuple([z.number().int().min(1).max(200), z.number().int().min(1).max(200)])
  .refine(([lo, hi]) => lo <= hi, { message: 'expected [min, max] with min <= max' });

const samplingSchema = z.enum(['uniform', 'balanced', 'qiu', 'large-digits', 'large-sums', 'large-mixed']);

export const taskSchema = z
  .object({
    op: z.enum(['add', 'mul']).describe('add or mul'),
    train_digits: digitRange.describe('operand digit range during training; each operand draws its length uniformly'),
    test_digits: digitRange.describe('held-out test lengths: both operands have exactly n digits'),
    train_size: z
      .number()
      .int()
      .positive()
      .max(1e9)
      .nullable()
      .default(null)
      .describe('fixed training set of this many problems, or null for fresh problems every batch'),
    operand_lengths: z
      .enum(['independent', 'equal'])
      .default('independent')
      .describe('uniform sampling: each operand draws its own length, or both share one (as the test sets do)'),
    sampling: samplingSchema
      .default('uniform')
      .describe(
        "uniform lengths; Lee'23 balanced: all 1-digit pairs, 900N/1e4 2-digit, carries balanced; " +
          'qiu (mul): uniform, 45% of problems keep one nonzero digit of the second operand; ' +
          'large-digits: uniform, 25% of problems (task.large_digits_share) draw every digit from 5-9 (large column sums); ' +
          'large-sums (mul): uniform, 25% of problems redrawn until a running column sum reaches 150 (task.large_sums); ' +
          'large-mixed (mul): both, each with its own share',
      ),
    // Optional, not defaulted: configs written before it keep their config_sha256.
    large_digits_share: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe('large-digits and large-mixed sampling: share of problems whose every digit is drawn from 5-9; default 0.25'),
    // Optional, not defaulted: configs written before it keep their config_sha256.
    large_sums: z
      .object({
        share: z.number().gt(0).max(1).default(0.25).describe('share of problems drawn from the tail'),
        from: z.number().int().positive().default(150).describe('the least largest running column sum ĉ_k of a tail problem'),
      })
      .strict()
      .optional()
      .describe('large-sums and large-mixed sampling: the share of problems redrawn until their largest running column sum reaches from'),
    test_size: z.number().int().positive().max(1e9).default(200).describe('held-out problems per test length'),
    curriculum: z
      .array(
        z
          .object({
            until_step: z.number().int().positive().describe('last optimizer step of this stage'),
            train_digits: digitRange.describe('operand digit range of the stage'),
            // Optional, not defaulted: configs written before it keep their config_sha256.
            sampling: samplingSchema.optional().describe('how the stage draws its problems; default task.sampling'),
          })
          .strict(),
      )
      .max(1000)
      .default([])
      .describe(
        'stages of operand lengths before train_digits, e.g. [{until_step: 20000, train_digits: [1, 2]}]: steps up to ' +
          'each until_step draw from its range (and its sampling, when given), later steps from train_digits',
      ),
  })
  .strict();

export const formatSchema = z
  .object({
    name: z.enum(FORMAT_NAMES as [string, ...string[]]).describe('data format, see `arith-lab data --help`'),
    pad_width: z
      .number()
      .int()
      .positive()
      .max(200)
      .nullable()
      .default(null)
      .describe('operand width of fixed-width formats; default: longest training operand'),
    pad_extra: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe(
        'reversed-padded: leading zeros beyond the longer operand (both pad to max(pad_width, longer) + pad_extra; Zhou et al. pad to the longest + 1)',
      ),
  })
  .strict();

// Upper bounds are generous but finite: they keep every count a safe integer; what fits a machine is
// checked against its memory before training (memoryEstimate.ts).
const mlpWidthSchema = z
  .number()
  .int()
  .positive()
  .max(2 ** 24);

export const modelSchema = z
  .object({
    layers: z.number().int().positive().max(1024).default(2).describe('transformer blocks'),
    heads: z.number().int().positive().max(4096).default(4).describe('attention heads per block; must divide d_model'),
    d_model: z
      .number()
      .int()
      .positive()
      .max(2 ** 20)
      .default(128)
      .describe('width of the residual stream'),
    d_ff: z
      .union([mlpWidthSchema, z.array(mlpWidthSchema).min(1)])
      .nullable()
      .default(null)
      .describe('MLP width; a list gives each block its own, e.g. [256, 512]; default 4 * d_model'),
    // Optional rather than defaulted: configs written before this field keep their config_sha256.
    mlp: z
      .union([z.enum(MLP_KINDS), z.array(z.enum(MLP_KINDS)).min(1)])
      .optional()
      .describe(
        'the MLP: gelu (GPT-2, the default), or gated: geglu, swiglu, bilinear (two projections to d_ff multiplied, the gate through GELU, SiLU or nothing); a list gives each block its own, e.g. [bilinear, gelu]',
      ),
    dropout: z.number().min(0).max(0.9).default(0).describe('dropout on embeddings, attention weights and block outputs'),
    max_len: z
      .number()
      .int()
      .positive()
      .max(2 ** 30)
      .default(64)
      .describe('longest sequence in tokens (size of a learned APE table)'),
    pos: z
      .union([z.enum(POSITIONAL_NAMES), z.array(z.enum(POSITIONAL_NAMES)).min(1, 'expected at least one scheme')], {
        error: `expected one of ${POSITIONAL_NAMES.map((name) => JSON.stringify(name)).join(', ')}, or a list such as [ape, t5]`,
      })
      .default('nope')
      .describe('positional encoding, or a list combining one input-side and one attention-side scheme ([ape, t5])'),
    recurrence: z
      .number()
      .int()
      .min(1, 'expected at least 1 pass (1: a plain model; R > 1 loops the layers R times)')
      .max(1000)
      .default(1)
      .describe('passes through the layers, the embeddings added before each (looped model); 1: a plain model'),
    length_scaled_attention: z
      .boolean()
      .default(false)
      .describe(
        "multiply each query's attention logits by ln(n), n the number of keys it sees (Scalable-Softmax): the best-matching key keeps its share of the attention as sequences grow; additive biases (ALiBi, T5, FIRE) are not scaled",
      ),
    // Each encoding's own options (rope_fraction, rope_base, ...), declared in its file.
    ...positionalOptionFields,
    tie_embeddings: z.boolean().default(true).describe('output projection shares the token embedding (nanoGPT)'),
  })
  .strict();

export const trainSchema = z
  .object({
    steps: z.number().int().positive().describe('optimizer steps'),
    batch: z
      .number()
      .int()
      .positive()
      .max(2 ** 30)
      .default(64)
      .describe('problems per step'),
    lr: z.number().positive().default(1e-3).describe('AdamW peak learning rate, after linear warmup'),
    min_lr: z.number().min(0).default(1e-4).describe('the decay ends here at the last step'),
    warmup: z.number().int().min(0).default(100).describe('linear warmup steps'),
    // Optional rather than defaulted: configs written before this field keep their config_sha256.
    cooldown: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .describe(
        'warmup-stable-decay: hold lr after warmup, then fall to min_lr as 1 - sqrt(progress) over this share of the steps after warmup (Hägele et al. 2024); omit: cosine decay from warmup to the last step',
      ),
    beta1: z.number().min(0).lt(1).default(0.9).describe('AdamW first-moment decay'),
    beta2: z.number().min(0).lt(1).default(0.99).describe('AdamW second-moment decay'),
    weight_decay: z.number().min(0).default(0.1).describe('decoupled weight decay on matrices and embeddings'),
    grad_clip: z.number().min(0).default(1).describe('max global gradient norm; 0 disables'),
    loss_on: z.enum(['answer', 'all']).default('answer').describe('tokens that carry loss: the target only, or every token'),
    eval_every: z
      .number()
      .int()
      .positive()
      .default(250)
      .describe('greedy-decoding evaluation every this many steps (and at the end, on every held-out problem)'),
    eval_size: z.number().int().positive().max(1e9).default(100).describe('problems per test length at periodic evaluations'),
    log_every: z.number().int().positive().default(10).describe('a metrics.jsonl line every this many steps'),
    checkpoint_every: z
      .number()
      .int()
      .positive()
      .default(500)
      .describe('write a checkpoint every this many steps (and always at the end and on Ctrl-C)'),
    keep_checkpoints: z.number().int().positive().max(1e6).default(3).describe('how many of the newest checkpoints to keep'),
    keep_checkpoints_at: z
      .array(z.number().int().positive())
      .default([])
      .describe(
        'steps whose checkpoints are written and never deleted, besides the newest keep_checkpoints: fork points, ' +
          'e.g. [96000] before a curriculum stage starts at 97000, for `train --fork <run> --at 96000`',
      ),
    probe_every: z
      .number()
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('run the length probe every this many steps and at the end (probes/length-by-step.jsonl); null: never'),
    probe_samples: z.number().int().positive().max(1e6).default(20).describe('problems per length-grid cell when probing during training'),
    aux_loss: z
      .object({
        target: z.literal('running_sum').describe("Bai'25: the running sum ĉ_k of each answer column (multiplication)"),
        layer: z
          .union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1)])
          .describe(
            'the head reads the residual stream after this block (1 = the first); a list: one head per block listed (parameters aux_head.<layer>.*), their losses summed',
          ),
        weight: z.number().min(0).default(1).describe('the auxiliary loss is added to the cross-entropy times this'),
        scale: z.number().positive().default(100).describe('the head predicts ĉ_k / scale (mean squared error)'),
        read: z
          .enum(['residual', 'heads'])
          .default('residual')
          .describe(
            "residual: one head on the residual stream after block `layer`; heads: one head per attention head of block `layer`, each reading that head's output before the projection (Bai et al.'s code, github.com/ajyl/icot)",
          ),
        // Optional rather than defaulted: configs written before this field keep their config_sha256.
        until_step: z
          .number()
          .int()
          .positive()
          .optional()
          .describe(
            'the loss is added through this step and dropped after it (the heads stay in checkpoints), so a late stage trains on the answer alone; omit: every step',
          ),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('running-sum auxiliary loss (Bai et al. 2025) from linear heads on the residual stream or the attention heads; null: none'),
    // Optional rather than null by default: runs started before this field existed keep their config_sha256.
    ema: z
      .object({
        decay: z
          .number()
          .gt(0)
          .lt(1)
          .describe('weight of the old average at each update (0.998 with every 10: a window of about 5,000 steps)'),
        every: z.number().int().positive().default(10).describe('update the average every this many steps'),
      })
      .strict()
      .optional()
      .describe(
        "exponential moving average of the weights (Polyak averaging): evaluations, checkpoints' model.safetensors, probe and predict use the average; omit: the trained weights",
      ),
    // Optional for the reason `ema` is.
    muon: z
      .object({
        momentum: z.number().min(0).lt(1).default(0.95).describe('Nesterov momentum of the matrices'),
        ns_steps: z.number().int().min(1).max(10).default(5).describe('Newton-Schulz iterations that orthogonalize each update'),
      })
      .strict()
      .optional()
      .describe(
        "Muon (Jordan et al. 2024) for the blocks' weight matrices, each update orthogonalized and scaled by 0.2·sqrt(max(rows, cols)) so that `lr` and its schedule serve both (Liu et al. 2025); AdamW (beta1, beta2) for embeddings, heads, norms, biases and PE tables; omit: AdamW for everything",
      ),
    internalize: z
      .object({
        every: z.number().int().positive().describe('steps per stage'),
        tokens_per_stage: z.number().int().positive().describe('chain-of-thought tokens removed from the left per stage'),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('stepwise internalization of the chain of thought (Deng et al. 2024); null: the format as written'),
  })
  .strict();

export const configSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
      .optional()
      .describe('run name, the prefix of runs/<name>-<time>; default: the config file name'),
    seed: z.number().int().min(0).default(0).describe('seeds data, held-out sets, initial weights and dropout'),
    backend: z
      .enum(BACKEND_NAMES)
      .default('auto')
      .describe('tensor engine; auto: torch when its addon is built (npm run build:torch), else wasm'),
    device: z
      .enum(DEVICE_NAMES)
      .default('cpu')
      .describe('where the torch backend keeps tensors: cuda needs a CUDA libtorch and a GPU; other backends ignore it'),
    task: taskSchema,
    format: formatSchema,
    model: modelSchema.prefault({}),
    train: trainSchema,
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
