import { paperKey, type AxisEntry, type PaperValue, type Reproduction } from './reproduction.ts';

/**
 * Lee et al. 2023, "Teaching Arithmetic to Small Transformers": how many training examples each data format
 * needs to learn 3-digit addition. Paper numbers: the paper's Figure 1 (right), exact match on 10,000 held-out
 * 3-digit problems by training-set size; settings: its nanoGPT configuration (6 layers, 6 heads, d_model 384).
 */

const SIZES = [1000, 2000, 3000, 4000, 5000, 10000, 20000];

const rows: AxisEntry[] = SIZES.map((size) => ({
  id: `n${size / 1000}k`,
  label: `${size / 1000}k`,
  overrides: { task: { train_size: size } },
}));

/** Sequence lengths (tokens with `<bos>`/`<eos>`) of the longest 3-digit example: 15, 17, 67 and 288. */
const columns: AxisEntry[] = [
  { id: 'plain', label: 'plain', overrides: { format: { name: 'plain' }, model: { max_len: 24 } } },
  { id: 'reversed', label: 'reversed', overrides: { format: { name: 'reversed' }, model: { max_len: 24 } } },
  { id: 'scratchpad-simple', label: 'simplified scratchpad', overrides: { format: { name: 'scratchpad-simple' }, model: { max_len: 72 } } },
  {
    id: 'scratchpad-detailed',
    label: 'detailed scratchpad',
    overrides: { format: { name: 'scratchpad-detailed' }, model: { max_len: 296 } },
  },
];

// Lee et al. 2023, Figure 1 (right): rows 1k..20k, columns plain, reversed, simplified, detailed scratchpad.
const PAPER: Record<string, number[]> = {
  plain: [0.4, 1.7, 28.7, 62.3, 81.1, 87.4, 90.1],
  reversed: [1.6, 30.6, 79.1, 98.2, 99.8, 100, 100],
  'scratchpad-simple': [84.6, 99.7, 99.8, 99.9, 100, 100, 100],
  'scratchpad-detailed': [99.8, 99.6, 100, 100, 99.9, 100, 100],
};
const SOURCE =
  'Lee et al. 2023, "Teaching Arithmetic to Small Transformers" (ICLR 2024), Figure 1 (right): 3-digit addition, ' +
  'exact match on 10,000 held-out problems by number of training examples';

const paper: Record<string, PaperValue> = {};
for (const [column, values] of Object.entries(PAPER)) {
  rows.forEach((row, i) => {
    paper[paperKey(row.id, column, 'exact')] = { value: values[i], text: String(values[i]), source: SOURCE };
  });
}

/**
 * Lee trained nanoGPT on 256-token (plain, reversed) or 1024-token (scratchpad) contexts packed with examples,
 * 256 or 16 contexts per iteration. Our batches count examples, so the paper profile matches tokens per
 * iteration: 256·256 / 13 ≈ 5,000 plain examples (12 characters + newline), 256·256 / 15 ≈ 4,400 reversed,
 * 16·1024 / 60 ≈ 270 simplified and 16·1024 / 250 ≈ 65 detailed scratchpads (3-digit lengths, rounded).
 */
const PAPER_BATCH = { plain: 5000, reversed: 4400, 'scratchpad-simple': 270, 'scratchpad-detailed': 65 };

export const lee2023SampleEfficiency: Reproduction = {
  name: 'lee2023-sample-efficiency',
  title: 'Lee et al. 2023: sample efficiency of data formats on 3-digit addition',
  citation:
    'Nayoung Lee, Kartik Sreenivasan, Jason D. Lee, Kangwook Lee, Dimitris Papailiopoulos. Teaching Arithmetic to Small Transformers. arXiv:2307.03381 (ICLR 2024).',
  notes: [
    'Exact match (%) of the final answer on held-out problems whose operands both have 3 digits, drawn before ' +
      'the training set and never trained on. Rows: size of the fixed training set; columns: data format (Lee et al. 2023, Figure 1, left).',
    "Training sets use Lee's balanced sampling: all 100 one-digit pairs, 9% two-digit, the rest three-digit, with " +
      'the number of carries drawn uniformly (task.sampling: balanced).',
    'Lee tested on 10,000 problems; the quick profile tests on 1,000 (standard error at most 1.6 points).',
    'Lee packed examples into fixed contexts; the lab trains one example per sequence (<bos> prompt target <eos>).',
  ],
  base: {
    seed: 0,
    task: { op: 'add', train_digits: [1, 3], test_digits: [3, 3], train_size: 1000, sampling: 'balanced', test_size: 10000 },
    format: { name: 'plain' },
    model: { layers: 6, heads: 6, d_model: 384, dropout: 0.2, max_len: 24, pos: 'ape' },
    train: {
      steps: 5000,
      batch: 256,
      lr: 1e-3,
      min_lr: 1e-4,
      warmup: 100,
      beta1: 0.9,
      beta2: 0.99,
      weight_decay: 0.1,
      grad_clip: 1,
      loss_on: 'all',
      eval_every: 500,
      eval_size: 200,
      checkpoint_every: 500,
    },
  },
  rows: { label: 'train size', entries: rows },
  columns: { label: 'format', entries: columns },
  metrics: [
    {
      id: 'exact',
      label: 'exact match, 3 digits',
      read: (run) => {
        const accuracy = run.info.result?.accuracy?.['3'];
        return accuracy === undefined ? null : 100 * accuracy;
      },
    },
  ],
  paper,
  checks: [
    {
      question: 'Does reversed beat plain at 2k-4k samples?',
      answer: (mean) => {
        const pairs = ['n2k', 'n3k', 'n4k'].map((row) => [row, mean(row, 'reversed', 'exact'), mean(row, 'plain', 'exact')] as const);
        if (pairs.some(([, r, p]) => r === null || p === null)) return { verdict: 'unknown', evidence: 'cells missing' };
        const evidence = pairs.map(([row, r, p]) => `${row.slice(1)}: ${r!.toFixed(1)} vs ${p!.toFixed(1)}`).join('; ');
        return { verdict: pairs.every(([, r, p]) => r! > p!) ? 'yes' : 'no', evidence };
      },
    },
    {
      question: 'Do the scratchpads beat reversed at 1k samples?',
      answer: (mean) => {
        const reversed = mean('n1k', 'reversed', 'exact');
        const pads = (['scratchpad-simple', 'scratchpad-detailed'] as const)
          .map((column) => [column === 'scratchpad-simple' ? 'simplified' : 'detailed', mean('n1k', column, 'exact')] as const)
          .filter(([, value]) => value !== null);
        if (reversed === null || pads.length === 0) return { verdict: 'unknown', evidence: 'cells missing' };
        const evidence = [...pads.map(([name, value]) => `${name} ${value!.toFixed(1)}`), `reversed ${reversed.toFixed(1)}`].join(', ');
        return {
          verdict: pads.every(([, value]) => value! > reversed) ? 'yes' : 'no',
          evidence: pads.length < 2 ? `${evidence} (one scratchpad only)` : evidence,
        };
      },
    },
  ],
  profiles: {
    paper: {
      description:
        "Lee's settings: nanoGPT 6 layers, 6 heads, d_model 384, dropout 0.2, learned positions; AdamW lr 1e-3 " +
        'cosine to 1e-4, beta2 0.99, warmup 100, loss on every token; 5,000 iterations (plain, reversed) or 20,000 ' +
        '(scratchpads), batches sized to match the tokens per iteration of their packed contexts; 10,000 test problems. ' +
        'Far beyond a CPU: run it on a GPU backend.',
      seeds: 3,
      overrides: {},
      byColumn: {
        plain: { train: { batch: PAPER_BATCH.plain } },
        reversed: { train: { batch: PAPER_BATCH.reversed } },
        'scratchpad-simple': { train: { batch: PAPER_BATCH['scratchpad-simple'], steps: 20000, eval_every: 2000, checkpoint_every: 2000 } },
        'scratchpad-detailed': {
          train: { batch: PAPER_BATCH['scratchpad-detailed'], steps: 20000, eval_every: 2000, checkpoint_every: 2000, eval_size: 50 },
        },
      },
    },
    quick: {
      description:
        "Scaled to a 2-core CPU: 2 layers, 4 heads, d_model 64 (103k parameters, 1/100 of Lee's), no dropout, AdamW " +
        "lr 3e-3 cosine to 1e-4, loss on every token (as Lee's nanoGPT); plain and reversed 1,500 steps of 64 examples, " +
        'simplified scratchpad 1,200 steps of 32; 1,000 test problems. About 1/50 of the examples Lee showed for plain ' +
        "and reversed: a model this small is step-limited, not data-limited, so it need not fail where Lee's did.",
      seeds: 1,
      overrides: {
        task: { test_size: 1000 },
        model: { layers: 2, heads: 4, d_model: 64, dropout: 0 },
        train: { lr: 3e-3, min_lr: 1e-4, steps: 1500, batch: 64, eval_every: 500, eval_size: 100, checkpoint_every: 500 },
      },
      byColumn: {
        'scratchpad-simple': { train: { steps: 1200, batch: 32, eval_every: 300, eval_size: 50, checkpoint_every: 300 } },
      },
      skip: {
        cells: ['*-scratchpad-detailed'],
        reason:
          'the detailed scratchpad (288-token examples) costs ~0.7 s per step of 8 examples on wasm and ~0.2 s per ' +
          'step of 16 on torch (one core): 1,200 steps of 16 would add ~5 min a cell, ~35 min for the column, on top ' +
          "of the other three columns' 16 min; run it with --profile paper on a GPU, or --profile paper --set " +
          'model.layers=2 --set model.heads=4 --set model.d_model=64 --set train.steps=1200 --set train.batch=16 ' +
          "--set train.lr=0.003 --set task.test_size=1000 --only '*-scratchpad-detailed' --seeds 1 for a CPU version.",
      },
    },
  },
};
