import { fitsTrainingRange, LENGTH_METRICS, leadsOthers } from './lengthMetrics.ts';
import { paperKey, type AxisEntry, type ConfigPatch, type PaperValue, type Reproduction } from './reproduction.ts';

/**
 * Cho et al. 2024, "Position Coupling: Improving Length Generalization of Arithmetic Transformers Using Task
 * Structure" (NeurIPS 2024, code github.com/HanseulJo/position-coupling): digits of equal significance in both
 * operands and the answer share one learned position id. A 1-layer, 4-head model trained on 1-30 digit
 * addition generalizes to 200 digits; the baselines (NoPE, learned APE, APE with randomized positions) do not.
 */

/**
 * The quick profile's schedule, in one place to tune: 4 columns × 3 seeds = 12 runs on the 2-core CPU with
 * `--jobs 2` (one torch thread each). Measured as a table on a quiet machine: 34m23s, 5-7 minutes a run
 * (docs/results.md, "Cho'24 and McLeish'24, quick").
 */
const QUICK = {
  seeds: 3,
  trainDigits: [1, 10] as [number, number],
  testDigits: [1, 30] as [number, number],
  testSize: 100,
  dModel: 256,
  steps: 1000,
  batch: 128,
  lr: 1e-3,
  minLr: 1e-5,
  warmup: 60,
  evalEvery: 500,
  /** Coupled ids up to 32 for 30-digit tests; training offsets spread over the whole table. */
  maxPosition: 64,
  /** The longest 30-digit test sequence is 98 tokens. */
  maxLen: 100,
};

/**
 * The lab's variant (docs/positional.md, "The attention side on role ids"): the coupled ids read by a
 * bidirectional T5 bias instead of a learned table, with two extra leading zeros (format.pad_extra). The first
 * gives the final carry's column digits to add (configs/addition-coupled-relative.yaml); the second makes every
 * answer end in a 0, after which the model stops. With one, seeds 1 and 2 stood at 89% and 61% at 20 digits
 * after 2,000 steps, nearly every miss an extra digit written after the sum; with two, at 100% and 94%
 * (docs/results.md, "Cho'24 and McLeish'24, quick").
 */
const RELATIVE: ConfigPatch = {
  format: { pad_extra: 2 },
  model: {
    pos: ['coupled', 't5'],
    attention_ids: 'roles',
    role_table: false,
    t5_bidirectional: true,
    t5_buckets: 20,
    t5_max_distance: 10,
    t5_scale: 100,
  },
};

const columns: AxisEntry[] = [
  { id: 'coupled', label: 'position coupling', overrides: { model: { pos: 'coupled' } } },
  { id: 'coupled-relative', label: 'coupled ids, relative bias (lab)', overrides: RELATIVE },
  { id: 'nope', label: 'NoPE', overrides: { model: { pos: 'nope' } } },
  { id: 'ape', label: 'APE (learned)', overrides: { model: { pos: 'ape' } } },
  { id: 'random-ape', label: 'APE, randomized positions', overrides: { model: { pos: 'ape' } } },
];
const rows: AxisEntry[] = [{ id: 'all', label: 'addition', overrides: {} }];

const SOURCE =
  'Cho et al. 2024, "Position Coupling" (NeurIPS 2024), abstract and text: a 1-layer model with coupled positions ' +
  'trained on 1-30 digit additions generalizes to 200-digit additions; median exact match over 8 runs (4 model seeds ' +
  '× 2 data seeds) above 95% out to 200 digits. Table or figure number: not verified';
const NOT_QUOTED =
  'not quoted: the paper compares this baseline in its figures; numbers we could verify were not recorded, so none ' + 'is invented here';
const IN_RANGE = 'not quoted: the paper reports lengths beyond the training range';

const paper: Record<string, PaperValue> = {};
for (const column of columns) {
  for (const metric of LENGTH_METRICS) {
    const key = paperKey('all', column.id, metric.id);
    if (metric.id === 'in-range') paper[key] = { text: 'n/a', source: IN_RANGE };
    else if (column.id === 'coupled') paper[key] = { min: 95, text: '> 95 (median)', source: SOURCE };
    else paper[key] = { text: 'n/a', source: NOT_QUOTED };
  }
}

/** The baselines of Cho et al.'s scripts (scripts/addition/run_NoPE.sh, run_random_start_APE.sh): 6 layers, 8 heads. */
const PAPER_BASELINE: ConfigPatch = { model: { layers: 6, heads: 8 } };

export const cho2024Coupling: Reproduction = {
  name: 'cho2024-coupling',
  title: 'Cho et al. 2024: position coupling against NoPE and learned positions, exact match by addition length',
  citation:
    'Hanseul Cho, Jaeyoung Cha, Pranjal Awasthi, Srinadh Bhojanapalli, Anupam Gupta, Chulhee Yun. Position Coupling: ' +
    'Improving Length Generalization of Arithmetic Transformers Using Task Structure. NeurIPS 2024. Code: ' +
    'github.com/HanseulJo/position-coupling.',
  notes: [
    'Exact match (%) of the final held-out evaluation, both operands with exactly n digits: in range (mean over the ' +
      'trained lengths), at 2× and 3× the longest training length, at the longest tested length, and beyond (mean ' +
      'over every untrained length). Quick: trained on 1-10 digits, so 20, 30 and 30 digits; paper: 1-30, so 60, 90 ' +
      'and 200 digits. The whole curve of each run is in report.html.',
    'Format: reversed-padded, as Cho et al. write addition: both operands zero-padded to one width (the longest ' +
      'training operand, or the longer operand beyond it), the sum reversed (units first) and padded to one digit more. ' +
      'The lab variant adds two more leading zeros (format.pad_extra 2), so every answer ends in a 0.',
    'Randomized positions are Ruoss et al. 2023 (a sorted random subset of [0, L) in training, 0..n-1 at evaluation); ' +
      "Cho et al.'s own APE baseline starts the positions at a random offset instead. Zhou et al.'s index hints, the " +
      "paper's other baseline, are not a column: the lab's index-hints-window format has 52 hint letters, so it " +
      'cannot write problems past 51 digits.',
    'Shape checks read medians over seeds, as the paper reports them.',
  ],
  base: {
    seed: 0,
    task: { op: 'add', train_digits: [1, 30], test_digits: [1, 200], train_size: 1_000_000, test_size: 100 },
    format: { name: 'reversed-padded' },
    model: {
      layers: 1,
      heads: 4,
      d_model: 512,
      d_ff: 2048,
      dropout: 0,
      pos: 'coupled',
      max_position: 203,
      max_len: 640,
    },
    train: {
      steps: 50_000,
      batch: 1000,
      lr: 1e-4,
      min_lr: 1e-5,
      warmup: 500,
      beta1: 0.9,
      beta2: 0.999,
      weight_decay: 0,
      grad_clip: 1,
      eval_every: 5000,
      eval_size: 20,
      checkpoint_every: 2500,
    },
  },
  rows: { label: '', entries: rows },
  columns: { label: 'positions', entries: columns },
  metrics: LENGTH_METRICS,
  paper,
  checks: [
    {
      question: 'Is coupling at least 95% at 2× the training length (median over seeds) while NoPE and APE stay near 0 (at most 5%)?',
      answer: (_mean, spread) =>
        leadsOthers(
          ['coupling', spread('all', 'coupled', 'at-2x')],
          [
            ['NoPE', spread('all', 'nope', 'at-2x')],
            ['APE', spread('all', 'ape', 'at-2x')],
          ],
          { floor: 95, ceiling: 5 },
        ),
    },
    {
      question:
        "Is the lab's variant (coupled ids read by a relative bias) at least 95% at 2× the training length (median over seeds) while NoPE and APE stay near 0?",
      answer: (_mean, spread) =>
        leadsOthers(
          ['coupled ids, relative bias', spread('all', 'coupled-relative', 'at-2x')],
          [
            ['NoPE', spread('all', 'nope', 'at-2x')],
            ['APE', spread('all', 'ape', 'at-2x')],
          ],
          { floor: 95, ceiling: 5 },
        ),
    },
    {
      question: 'Is coupling at least 95% at 3× the training length (median over seeds)?',
      answer: (_mean, spread) => leadsOthers(['coupling', spread('all', 'coupled', 'at-3x')], [], { floor: 95 }),
    },
    {
      question: 'Do coupling, NoPE and APE fit the training range (median at least 95%)?',
      answer: (_mean, spread) =>
        fitsTrainingRange([
          ['coupling', spread('all', 'coupled', 'in-range')],
          ['NoPE', spread('all', 'nope', 'in-range')],
          ['APE', spread('all', 'ape', 'in-range')],
        ]),
    },
  ],
  profiles: {
    paper: {
      description:
        "Cho et al.'s setup: coupling with 1 layer, 4 heads, d_model 512, d_ff 2048; the baselines with 6 layers and 8 " +
        'heads, as in their scripts; a fixed set of 1M problems of 1-30 digits, 50,000 steps of 1,000, AdamW lr 1e-4 ' +
        '(betas 0.9, 0.999), no weight decay, 500 warmup steps then cosine to 1e-5; 4 seeds (they ran 4 model seeds × 2 ' +
        'data seeds); 100 test problems per length 1-200. On cuda (the profile sets device: cuda): --backend torch.',
      seeds: 4,
      // A GPU's memory: one step's activations alone are tens of GB (the memory check reads the device).
      overrides: { device: 'cuda' },
      byColumn: {
        nope: PAPER_BASELINE,
        ape: PAPER_BASELINE,
        'random-ape': { ...PAPER_BASELINE, model: { ...PAPER_BASELINE.model, random_positions: 640 } },
      },
    },
    quick: {
      description:
        `For the 2-core CPU: trained on ${QUICK.trainDigits.join('-')} digits and tested on ${QUICK.testDigits.join('-')}, ` +
        `every column 1 layer, 4 heads, d_model ${QUICK.dModel}, ${QUICK.steps.toLocaleString('en-US')} steps of ` +
        `${QUICK.batch} fresh problems, lr ${QUICK.lr} cosine to ${QUICK.minLr}, ${QUICK.seeds} seeds; randomized ` +
        'positions skipped. Far shorter than the paper: it asks whether the shape appears at 2-3× the training length.',
      seeds: QUICK.seeds,
      overrides: {
        task: { train_digits: QUICK.trainDigits, test_digits: QUICK.testDigits, train_size: null, test_size: QUICK.testSize },
        model: { d_model: QUICK.dModel, d_ff: null, max_position: QUICK.maxPosition, max_len: QUICK.maxLen },
        train: {
          steps: QUICK.steps,
          batch: QUICK.batch,
          lr: QUICK.lr,
          min_lr: QUICK.minLr,
          warmup: QUICK.warmup,
          eval_every: QUICK.evalEvery,
          checkpoint_every: QUICK.evalEvery,
        },
      },
      skip: {
        cells: ['random-ape'],
        reason: 'randomized positions (L = 640) are left to the paper profile, which trains them',
      },
    },
  },
};
