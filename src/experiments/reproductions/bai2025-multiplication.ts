import type { DigitsResult } from '../../probes/digits.ts';
import type { LinearResult } from '../../probes/linear.ts';
import { paperKey, type AxisEntry, type Metric, type PaperValue, type Reproduction } from './reproduction.ts';

/**
 * Bai et al. 2025, "Why Can't Transformers Learn Multiplication? Reverse-Engineering Reveals Long-Range
 * Dependency Pitfalls" (arXiv:2510.00184, code github.com/ajyl/icot): 4×4-digit multiplication, digits least
 * significant first, a 2-layer 4-head GPT-2-style model. Standard training stays below 1 % exact match; the same
 * model with the running-sum auxiliary loss (a linear head predicting ĉ_k) reaches 99 %; implicit chain of thought
 * (Deng et al. 2024, stepwise internalization) 100 %. The linear probe shows whether ĉ_k is linearly decodable.
 */

const SOURCE = 'Bai et al. 2025, arXiv:2510.00184: 4×4 multiplication, 2 layers, 4 heads';

const columns: AxisEntry[] = [
  { id: 'standard', label: 'standard training', overrides: {} },
  {
    id: 'aux',
    label: 'running-sum auxiliary loss',
    // One bias-free head per attention head, as the released checkpoint has them (ckpts/aux_head); which block's
    // heads, and the scale, are not in the release: the last block, and ĉ_k / 10.
    overrides: { train: { aux_loss: { target: 'running_sum', layer: 2, weight: 1, scale: 10, read: 'heads' } } },
  },
  {
    id: 'icot',
    label: 'implicit CoT (stepwise internalization)',
    overrides: {
      format: { name: 'cot-multiplication' },
      model: { max_len: 160 },
      train: { internalize: { every: 1000, tokens_per_stage: 8 } },
    },
  },
];
const rows: AxisEntry[] = [{ id: '4x4', label: '4×4 digits', overrides: {} }];

const paper: Record<string, PaperValue> = {
  [paperKey('4x4', 'standard', 'exact')]: { max: 1, text: '< 1', source: `${SOURCE} (standard fine-tuning, 2 to 12 layers)` },
  [paperKey('4x4', 'aux', 'exact')]: { value: 99, text: '99', source: `${SOURCE} (auxiliary loss)` },
  [paperKey('4x4', 'icot', 'exact')]: { value: 100, text: '100', source: `${SOURCE} (ICoT)` },
};
const PROBE_METRICS = ['digit-0', 'digit-1', 'digit-2', 'digit-3', 'digit-4', 'digit-5', 'digit-6', 'digit-7'];
for (const column of ['standard', 'aux', 'icot']) {
  for (const metric of [...PROBE_METRICS, 'r2-embed', 'r2-blocks.0.resid_post', 'r2-blocks.1.resid_post']) {
    paper[paperKey('4x4', column, metric)] = {
      text: 'n/a',
      source: 'not quoted: the paper shows per-digit accuracy and probe results as figures, not numbers we could verify',
    };
  }
}

const digitAccuracy = (position: number): Metric => ({
  id: `digit-${position}`,
  label: `answer digit ${position} (units = 0)`,
  read: (run) => {
    const digits = run.probes.digits as DigitsResult | undefined;
    const accuracy = digits?.lengths.find((l) => l.digits === 4)?.positions[position]?.accuracy;
    return accuracy === undefined || accuracy === null ? null : 100 * accuracy;
  },
});

const runningSumR2 = (activation: string, label: string): Metric => ({
  id: `r2-${activation}`,
  label: `probe R² ×100 of ĉ_k, ${label} (mean over k)`,
  read: (run) => {
    const linear = run.probes.linear as LinearResult | undefined;
    const scores = (linear?.scores ?? []).flatMap((s) =>
      s.quantity === 'running_sum' && s.activation === activation && s.score !== null ? [s.score] : [],
    );
    return scores.length ? (100 * scores.reduce((sum, score) => sum + score, 0)) / scores.length : null;
  },
});

export const bai2025Multiplication: Reproduction = {
  name: 'bai2025-multiplication',
  title: 'Bai et al. 2025: 4×4 multiplication with standard training, the running-sum auxiliary loss and implicit CoT',
  citation:
    "Xiaoyan Bai, Itamar Pres, Yuntian Deng, Chenhao Tan, Stuart Shieber, Fernanda Viégas, Martin Wattenberg, Andrew Lee. Why Can't " +
    'Transformers Learn Multiplication? Reverse-Engineering Reveals Long-Range Dependency Pitfalls. arXiv:2510.00184, 2025. ' +
    'Code: github.com/ajyl/icot. Implicit CoT: Yuntian Deng, Yejin Choi, Stuart Shieber. From Explicit CoT to Implicit CoT: ' +
    'Learning to Internalize CoT Step by Step. arXiv:2405.14838, 2024. Code: github.com/da03/Internalize_CoT_Step_by_Step.',
  notes: [
    'Exact match (%) on 4×4 problems (both operands exactly 4 digits), per-digit accuracy from the digits probe, ' +
      'and the linear probe R² (×100) of the running sum ĉ_k at the token before answer digit k, per layer.',
    'Standard and auxiliary-loss columns use the reversed-all format (operands and product least significant digit ' +
      "first, as Bai et al.'s data writes them: `5 6 3 2 * 7 4 3 4`); the implicit-CoT column uses " +
      'cot-multiplication (digits reversed and space-separated, partial products before ####) and removes 8 ' +
      'chain-of-thought tokens (characters) from the left every 1,000 steps (every 250 in the quick profile).',
    "The auxiliary loss has one bias-free linear head per attention head of block 2, each reading its head's output " +
      'before the projection and regressing ĉ_k / 10 (mean squared error, weight 1, averaged over heads). Per-head ' +
      "heads are what Bai et al.'s released checkpoint holds (github.com/ajyl/icot, ckpts/aux_head); the block and " +
      "the scale are not in the release and are the lab's choices.",
  ],
  base: {
    seed: 0,
    task: { op: 'mul', train_digits: [4, 4], test_digits: [4, 4], train_size: null, test_size: 500 },
    format: { name: 'reversed-all' },
    model: { layers: 2, heads: 4, d_model: 256, dropout: 0, max_len: 24, pos: 'ape' },
    train: { steps: 12000, batch: 128, lr: 5e-4, min_lr: 5e-5, warmup: 100, eval_every: 2000, eval_size: 100, checkpoint_every: 2000 },
  },
  rows: { label: '', entries: rows },
  columns: { label: 'method', entries: columns },
  metrics: [
    { id: 'exact', label: 'exact match 4×4', read: (run) => (run.info.result ? 100 * (run.info.result.accuracy['4'] ?? NaN) : null) },
    ...[0, 1, 2, 3, 4, 5, 6, 7].map(digitAccuracy),
    runningSumR2('embed', 'embeddings'),
    runningSumR2('blocks.0.resid_post', 'after layer 1'),
    runningSumR2('blocks.1.resid_post', 'after layer 2'),
  ],
  paper,
  checks: [
    {
      question: 'Does the auxiliary loss lift exact match far above standard training?',
      answer: (mean) => {
        const [standard, aux] = [mean('4x4', 'standard', 'exact'), mean('4x4', 'aux', 'exact')];
        if (standard === null || aux === null) return { verdict: 'unknown', evidence: 'cells missing' };
        return { verdict: aux - standard >= 50 ? 'yes' : 'no', evidence: `standard ${standard.toFixed(1)}, aux ${aux.toFixed(1)}` };
      },
    },
  ],
  profiles: {
    paper: {
      description:
        "Bai's architecture (2 layers, 4 heads) at d_model 256, 12,000 steps of 128 problems; implicit CoT removes 8 tokens " +
        'per 1,000 steps. For a GPU backend.',
      seeds: 1,
      overrides: {},
      probes: [
        { name: 'digits', samples: 200, maxDigits: 4 },
        { name: 'linear', samples: 100, maxDigits: 4 },
      ],
    },
    quick: {
      description:
        'For the 2-core CPU: d_model 128, 3,000 steps of 64 problems, internalization 8 tokens per 250 steps. Too short to ' +
        'reach the paper: it shows the direction of the effect, if any.',
      seeds: 1,
      overrides: {
        task: { test_size: 200 },
        model: { d_model: 128 },
        train: { steps: 3000, batch: 64, lr: 1e-3, min_lr: 1e-4, eval_every: 1000, checkpoint_every: 1000 },
      },
      byColumn: { icot: { train: { internalize: { every: 250, tokens_per_stage: 8 } } } },
      probes: [
        { name: 'digits', samples: 100, maxDigits: 4 },
        { name: 'linear', samples: 40, maxDigits: 4 },
      ],
    },
  },
};
