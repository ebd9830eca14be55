import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { checkPositions } from '../src/config/checkPositions.ts';
import { dataSetup } from '../src/config/dataSetup.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { loadConfig } from '../src/config/load.ts';
import { sequenceRoles } from '../src/data/batches.ts';
import type { FormatOptions } from '../src/data/formats/format.ts';
import { getFormat } from '../src/data/formats/index.ts';
import type { Problem } from '../src/data/problem.ts';
import { Tokenizer } from '../src/data/tokenizer.ts';
import { greedyDecode } from '../src/inference/decode.ts';
import { writeQuery } from '../src/inference/query.ts';
import { disposeKvCache, Gpt, type KvCache } from '../src/models/gpt.ts';
import { abacus } from '../src/models/positional/abacus.ts';
import { coupled } from '../src/models/positional/coupled.ts';
import { sortedRandomSubset } from '../src/models/positional/randomPositions.ts';
import { createRandom } from '../src/random.ts';
import { UserError } from '../src/errors.ts';
import { testBackend } from './fixtures/backend.ts';
import { tinyGptConfig } from './fixtures/tinyGptConfig.ts';

/** [coupled, t5] with T5 reading the coupled ids (model.attention_ids: roles), as tinyGptConfig overrides. */
const T5_ON_COUPLED_IDS = {
  pos: ['coupled', 't5'],
  maxPosition: 40,
  attentionIds: 'roles',
  t5Bidirectional: true,
  t5Buckets: 20,
  t5MaxDistance: 10,
} satisfies Partial<Parameters<typeof tinyGptConfig>[0]>;

beforeAll(async () => {
  await selectBackend(testBackend('cpu'));
});

const options: FormatOptions = { padWidth: 3, maxDigits: 12 };
const add = (a: bigint, b: bigint): Problem => ({ op: 'add', a, b });

/** Roles of `<bos>` prompt target `<eos>` for a problem in a format. */
function rolesOf(formatName: string, problem: Problem) {
  const format = getFormat(formatName);
  return sequenceRoles(format.encode(problem, options), format.roles!(problem, options), new Tokenizer(format.vocabulary(options)));
}

const evaluation = { training: false, random: createRandom(0, 'unused') };

describe('position coupling ids (Cho et al. 2024: significance k -> s + 1 + k, operators s, others 0)', () => {
  const couplingOptions = { maxPosition: 20 };
  it('128+367 reversed, start 1 at evaluation', () => {
    // <bos> $ 1 2 8 + 3 6 7 = | 5 9 4 $ \n <eos>
    expect(coupled.positionsFromRoles(rolesOf('reversed', add(128n, 367n)), couplingOptions, evaluation)).toEqual([
      0, 0, 4, 3, 2, 1, 4, 3, 2, 1, 2, 3, 4, 0, 0, 0,
    ]);
  });

  it('zero-padded operands couple with the padded answer; hints of index-hints-window get 0', () => {
    // <bos> 0 1 2 + 3 4 5 = | 0 3 5 7 \n <eos>   (12+345, width 3, answer width 4)
    expect(coupled.positionsFromRoles(rolesOf('zero-padded', add(12n, 345n)), couplingOptions, evaluation)).toEqual([
      0, 4, 3, 2, 1, 4, 3, 2, 1, 5, 4, 3, 2, 0, 0,
    ]);
    // <bos> h 0 h 5 + h 0 h 7 = | h 2 h 1 \n <eos>
    expect(coupled.positionsFromRoles(rolesOf('index-hints-window', add(5n, 7n)), couplingOptions, evaluation)).toEqual([
      0, 0, 3, 0, 2, 1, 0, 3, 0, 2, 1, 0, 2, 0, 3, 0, 0,
    ]);
  });

  it('training shifts every non-zero id by one start s, drawn so the ids reach the last row of the table', () => {
    const roles = rolesOf('reversed', add(128n, 367n));
    const base = coupled.positionsFromRoles(roles, couplingOptions, evaluation);
    const random = createRandom(1, 'coupling-test');
    const starts = new Set<number>();
    for (let draw = 0; draw < 400; draw++) {
      const ids = coupled.positionsFromRoles(roles, couplingOptions, { training: true, random });
      const shift = ids[5] - base[5]; // the `+` sits at s
      ids.forEach((id, t) => expect(id).toBe(base[t] === 0 ? 0 : base[t] + shift));
      starts.add(shift + 1);
    }
    // Largest significance 2: s runs over 1..20-2-2 = 16, so the largest id s + 3 reaches row 19.
    expect(Math.min(...starts)).toBe(1);
    expect(Math.max(...starts)).toBe(16);
  });

  it('an id beyond the table is an error naming model.max_position', () => {
    const roles = rolesOf('reversed', add(10n ** 20n, 1n));
    expect(() => coupled.positionsFromRoles(roles, couplingOptions, evaluation)).toThrow(
      /position id 22 is outside its table of model.max_position 20/,
    );
  });
});

describe('Abacus ids (McLeish et al. 2024: significance k -> k + 1, others 0; random offset in training)', () => {
  const abacusOptions = { maxPosition: 120, abacusOffset: 100, abacusSymbolIds: 'zero' as const };
  it('128+367 reversed at evaluation: each digit its index in its own number', () => {
    expect(abacus.positionsFromRoles(rolesOf('reversed', add(128n, 367n)), abacusOptions, evaluation)).toEqual([
      0, 0, 3, 2, 1, 0, 3, 2, 1, 0, 1, 2, 3, 0, 0, 0,
    ]);
    // Numbers of different lengths: 7 + 1234 = 1241.
    expect(abacus.positionsFromRoles(rolesOf('plain', add(7n, 1234n)), abacusOptions, evaluation)).toEqual([
      0, 1, 0, 4, 3, 2, 1, 0, 4, 3, 2, 1, 0, 0,
    ]);
  });

  it('training adds one offset in [0, abacus_offset] to every digit of a sequence', () => {
    const roles = rolesOf('reversed', add(128n, 367n));
    const base = abacus.positionsFromRoles(roles, abacusOptions, evaluation);
    const random = createRandom(2, 'abacus-test');
    const offsets = new Set<number>();
    for (let draw = 0; draw < 3000; draw++) {
      const ids = abacus.positionsFromRoles(roles, abacusOptions, { training: true, random });
      const offset = ids[2] - base[2];
      ids.forEach((id, t) => expect(id).toBe(base[t] === 0 ? 0 : base[t] + offset));
      offsets.add(offset);
    }
    expect(offsets.size).toBe(101);
    expect(Math.min(...offsets)).toBe(0);
    expect(Math.max(...offsets)).toBe(100);
  });

  it('abacus_symbol_ids offset: the other tokens carry the training offset (so `=` is one id below the units), 0 at evaluation', () => {
    const roles = rolesOf('reversed', add(128n, 367n));
    const options = { ...abacusOptions, abacusSymbolIds: 'offset' as const };
    expect(abacus.positionsFromRoles(roles, options, evaluation)).toEqual(abacus.positionsFromRoles(roles, abacusOptions, evaluation));
    const random = createRandom(3, 'abacus-test');
    for (let draw = 0; draw < 50; draw++) {
      const ids = abacus.positionsFromRoles(roles, options, { training: true, random });
      const offset = ids[0];
      // <bos> $ 1 2 8 + 3 6 7 = 5 9 4 $ \n: digits at offset + their index in their number, the rest at the offset.
      expect(ids).toEqual([0, 0, 3, 2, 1, 0, 3, 2, 1, 0, 1, 2, 3, 0, 0, 0].map((id) => id + offset));
    }
  });

  it('abacus_symbol_ids before-answer: only the token before the answer (`=`) carries the offset', () => {
    const roles = rolesOf('reversed', add(128n, 367n));
    const options = { ...abacusOptions, abacusSymbolIds: 'before-answer' as const };
    expect(abacus.positionsFromRoles(roles, options, evaluation)).toEqual(abacus.positionsFromRoles(roles, abacusOptions, evaluation));
    const random = createRandom(4, 'abacus-test');
    for (let draw = 0; draw < 50; draw++) {
      const ids = abacus.positionsFromRoles(roles, options, { training: true, random });
      const offset = ids[9];
      expect(ids).toEqual([
        0,
        0,
        3 + offset,
        2 + offset,
        1 + offset,
        0,
        3 + offset,
        2 + offset,
        1 + offset,
        offset,
        1 + offset,
        2 + offset,
        3 + offset,
        0,
        0,
        0,
      ]);
    }
  });
});

describe('randomized positions (Ruoss et al. 2023)', () => {
  it('a sorted subset of distinct positions in [0, L), every position reachable', () => {
    const random = createRandom(3, 'subset-test');
    const seen = new Set<number>();
    for (let draw = 0; draw < 300; draw++) {
      const ids = sortedRandomSubset(10, 40, random);
      expect(ids).toHaveLength(10);
      ids.forEach((id, i) => {
        expect(id).toBeGreaterThanOrEqual(0);
        expect(id).toBeLessThan(40);
        if (i > 0) expect(id).toBeGreaterThan(ids[i - 1]);
        seen.add(id);
      });
    }
    expect(seen.size).toBe(40);
    expect(sortedRandomSubset(5, 5, random)).toEqual([0, 1, 2, 3, 4]);
    expect(() => sortedRandomSubset(6, 5, random)).toThrow(/model.random_positions is too small/);
  });

  it('the model draws them in training, and at evaluation only when random_positions_eval is random', () => {
    const roles = rolesOf('reversed', add(12n, 3n));
    const sequential = new Gpt(tinyGptConfig({ pos: 'rope', randomPositions: 64 }), 1);
    const random = new Gpt(tinyGptConfig({ pos: 'rope', randomPositions: 64, randomPositionsEval: 'random' }), 1);
    const draw = { training: true, random: createRandom(4, 'model-draw') };
    expect(sequential.positionIds(roles, draw)).toHaveLength(roles.length);
    expect(sequential.positionIds(roles, evaluation)).toBeNull();
    expect(random.positionIds(roles, evaluation)).toHaveLength(roles.length);
    expect(new Gpt(tinyGptConfig({ pos: 'rope' }), 1).positionIds(roles, draw)).toBeNull();
    [sequential, random].forEach((model) => model.dispose());
  });
});

/** Logits of a full forward pass with position ids, and the same tokens fed through the cache 5 then 1 at a time. */
describe('key/value cache with position ids', () => {
  const cases: [string, Partial<Parameters<typeof tinyGptConfig>[0]>][] = [
    ['coupled', { pos: 'coupled', maxPosition: 40 }],
    ['abacus', { pos: 'abacus', maxPosition: 40 }],
    ['rope, random positions', { pos: 'rope', randomPositions: 64, ropeFraction: 0.5 }],
    ['alibi, random positions', { pos: 'alibi', randomPositions: 64 }],
    ['ape, random positions', { pos: 'ape', randomPositions: 32, maxLen: 32 }],
    ['sinusoidal, random positions', { pos: 'sinusoidal', randomPositions: 64 }],
    ['t5, random positions', { pos: 't5', randomPositions: 64 }],
    ['fire, random positions', { pos: 'fire', randomPositions: 64, fireL: 4 }],
    ['[ape, fire], random positions', { pos: ['ape', 'fire'], randomPositions: 32, maxLen: 32 }],
    ['[abacus, fire]', { pos: ['abacus', 'fire'], maxPosition: 40 }],
    ['[coupled, t5]', { pos: ['coupled', 't5'], maxPosition: 40 }],
    ['[coupled, t5], T5 on the coupled ids', T5_ON_COUPLED_IDS],
    ['[coupled, t5], T5 on the coupled ids, no table', { ...T5_ON_COUPLED_IDS, roleTable: false }],
    ['abacus, recurrence 2', { pos: 'abacus', maxPosition: 40, recurrence: 2 }],
  ];
  for (const [label, overrides] of cases) {
    it(`${label}: incremental logits equal the full pass`, () => {
      const model = new Gpt(tinyGptConfig(overrides), 4);
      const ids = [
        [1, 5, 7, 3, 9, 4, 6, 8],
        [1, 4, 4, 10, 2, 3, 5, 11],
      ];
      const positions = [
        [0, 3, 7, 8, 12, 13, 20, 31],
        [0, 1, 5, 9, 10, 11, 17, 30],
      ];
      const full = tf.tidy(
        () =>
          model
            .forward(tf.tensor2d(ids, [2, 8], 'int32'), { training: false, positions: tf.tensor2d(positions, [2, 8], 'int32') })
            .arraySync() as number[][][],
      );
      const cache: KvCache = { length: 0, keys: [], values: [] };
      const slice = (rows: number[][], from: number, to: number) =>
        tf.tensor2d(
          rows.map((r) => r.slice(from, to)),
          [2, to - from],
          'int32',
        );
      const steps = [
        tf.tidy(
          () => model.forward(slice(ids, 0, 5), { training: false, cache, positions: slice(positions, 0, 5) }).arraySync() as number[][][],
        ),
      ];
      for (let t = 5; t < 8; t++) {
        steps.push(
          tf.tidy(
            () =>
              model
                .forward(slice(ids, t, t + 1), { training: false, cache, positions: slice(positions, t, t + 1) })
                .arraySync() as number[][][],
          ),
        );
      }
      for (let b = 0; b < 2; b++) {
        const incremental = steps.flatMap((step) => step[b]);
        incremental.forEach((row, t) => row.forEach((value, v) => expect(Math.abs(value - full[b][t][v])).toBeLessThan(1e-5)));
      }
      // The ids matter: the same tokens at 0..7 give other logits.
      const plain = tf.tidy(
        () =>
          model
            .forward(tf.tensor2d(ids, [2, 8], 'int32'), {
              training: false,
              positions: tf.tensor2d(
                [
                  [0, 1, 2, 3, 4, 5, 6, 7],
                  [0, 1, 2, 3, 4, 5, 6, 7],
                ],
                [2, 8],
                'int32',
              ),
            })
            .arraySync() as number[][][],
      );
      expect(Math.abs(plain[0][7][0] - full[0][7][0])).toBeGreaterThan(1e-6);
      disposeKvCache(cache);
      model.dispose();
    });
  }
});

/** The flattened logits of one fixed 8-token sequence fed with the given position ids. */
function logitsWithIds(model: Gpt, positions: number[]): number[] {
  return tf
    .tidy(
      () =>
        model
          .forward(tf.tensor2d([[1, 5, 7, 3, 9, 4, 6, 8]], [1, 8], 'int32'), {
            training: false,
            positions: tf.tensor2d([positions], [1, 8], 'int32'),
          })
          .arraySync() as number[][][],
    )[0]
    .flat();
}

const difference = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

describe('a composed [input-side, attention-side] encoding', () => {
  // The role ids are the input side's alone: with its table zeroed, [abacus, fire] and [coupled, t5] ignore the ids,
  // so the attention side saw the sequence positions 0..T-1 (McLeish et al. 2024 run FIRE on the sequence).
  for (const [pos, table] of [
    [['abacus', 'fire'], 'abacus.weight'],
    [['coupled', 't5'], 'coupled.weight'],
  ] as const) {
    it(`[${pos.join(', ')}]: the attention side sees 0..T-1, the input side the role ids`, () => {
      const model = new Gpt(tinyGptConfig({ pos: [...pos], maxPosition: 40 }), 5);
      const forward = (positions: number[]) => logitsWithIds(model, positions);
      const roleIds = [0, 3, 2, 1, 0, 3, 2, 1];
      const otherIds = [0, 30, 12, 5, 0, 9, 7, 20];
      expect(difference(forward(roleIds), forward(otherIds))).toBeGreaterThan(1e-5);
      model.params[table].assign(tf.zerosLike(model.params[table]));
      expect(difference(forward(roleIds), forward(otherIds))).toBeLessThan(1e-6);
      model.dispose();
    });
  }
});

describe('model.attention_ids: roles', () => {
  it('model.role_table: false drops the coupled table; the ids still reach the T5 bias', () => {
    const model = new Gpt(tinyGptConfig({ ...T5_ON_COUPLED_IDS, roleTable: false }), 5);
    expect(model.params['coupled.weight']).toBeUndefined();
    expect(model.params['t5.relative_attention_bias.weight'].shape).toEqual([20, 2]);
    model.dispose();
  });

  // The same check with the attention side reading the role ids: with the table zeroed the ids still matter, and
  // only through their differences (a bidirectional T5 bias of id distance).
  it('[coupled, t5]: the T5 bias reads the coupled ids, by their differences only', () => {
    const model = new Gpt(tinyGptConfig(T5_ON_COUPLED_IDS), 5);
    model.params['coupled.weight'].assign(tf.zerosLike(model.params['coupled.weight']));
    const forward = (positions: number[]) => logitsWithIds(model, positions);
    const roleIds = [0, 3, 2, 1, 0, 3, 2, 1];
    expect(difference(forward(roleIds), forward([0, 30, 12, 5, 0, 9, 7, 20]))).toBeGreaterThan(1e-5);
    // Keys after the query in id (distance -1, the next digit) and before it (distance 1) are told apart.
    expect(difference(forward(roleIds), forward([0, 1, 2, 3, 0, 1, 2, 3]))).toBeGreaterThan(1e-5);
    // Shifting every id by the same amount changes no distance, so no logit.
    expect(difference(forward([10, 13, 12, 11, 10, 13, 12, 11]), forward([20, 23, 22, 21, 20, 23, 22, 21]))).toBeLessThan(1e-6);
    model.dispose();
  });
});

/**
 * Greedy decoding of 45-digit additions (far beyond the 1-10 digits of the configs' training) with the cache
 * equals decoding by full forward passes over the growing sequence with the same position ids.
 */
describe('greedy decoding with the cache equals decoding without it, 45-digit operands', () => {
  for (const [label, file, overrides] of [
    ['coupled', 'coupled', ['model.max_position=64']],
    ['abacus', 'abacus', ['model.max_position=64', 'model.abacus_offset=5']],
    ['[abacus, fire]', 'abacus', ['model.pos=[abacus, fire]', 'model.max_position=64', 'model.abacus_offset=5', 'model.fire_l=16']],
    ['[coupled, t5]', 'coupled', ['model.pos=[coupled, t5]', 'model.max_position=64']],
    [
      '[coupled, t5], T5 on the coupled ids',
      'coupled',
      [
        'model.pos=[coupled, t5]',
        'model.max_position=64',
        'model.attention_ids=roles',
        'model.t5_bidirectional=true',
        'model.t5_buckets=20',
        'model.t5_max_distance=10',
      ],
    ],
    [
      '[coupled, t5], T5 on the coupled ids, no table',
      'coupled',
      [
        'model.pos=[coupled, t5]',
        'model.max_position=64',
        'model.attention_ids=roles',
        'model.role_table=false',
        'model.t5_bidirectional=true',
        'model.t5_buckets=20',
        'model.t5_max_distance=10',
      ],
    ],
    ['abacus, recurrence 2', 'abacus', ['model.recurrence=2', 'model.max_position=64', 'model.abacus_offset=5']],
  ] as const) {
    it(label, async () => {
      const config = loadConfig(`configs/addition-${file}.yaml`, [
        ...overrides,
        'task.test_digits=[1,50]',
        'model.layers=1',
        'model.d_model=16',
        'model.heads=2',
      ]);
      const experiment = prepareExperiment(config);
      const model = new Gpt(experiment.model, 11);
      const random = createRandom(6, 'long-problems');
      const digits = (n: number) => BigInt(`${random.int(1, 9)}${Array.from({ length: n - 1 }, () => random.int(0, 9)).join('')}`);
      const queries = [add(digits(45), digits(45)), add(digits(41), digits(47))].map((problem) => {
        const written = writeQuery(experiment, problem);
        if (!written.ok) throw new Error(written.error);
        return written.query;
      });
      for (const query of queries) expect(query.positions).toHaveLength(query.ids.length + query.maxNew);
      const generated = await greedyDecode(
        model,
        queries.map((q) => q.ids),
        queries.map((q) => q.maxNew),
        queries.map((q) => q.positions!),
      );
      queries.forEach((query, i) => {
        const sequence = [...query.ids];
        const expected: number[] = [];
        for (let step = 0; step < query.maxNew; step++) {
          const next = tf.tidy(() => {
            const logits = model.forward(tf.tensor2d([sequence], [1, sequence.length], 'int32'), {
              training: false,
              positions: tf.tensor2d([query.positions!.slice(0, sequence.length)], [1, sequence.length], 'int32'),
            });
            const vocab = logits.shape[2];
            return tf.argMax(logits.slice([0, sequence.length - 1, 0], [1, 1, vocab]).reshape([vocab])).dataSync()[0];
          });
          if (next === 2) break; // <eos>
          expected.push(next);
          sequence.push(next);
        }
        expect(generated[i]).toEqual(expected);
      });
      // Untrained weights, but the comparison must cover many generated tokens to mean anything.
      expect(Math.max(...generated.map((g) => g.length))).toBeGreaterThan(20);
      model.dispose();
    });
  }
});

describe('config errors for position ids (one line naming the fields)', () => {
  const failure = (file: string, overrides: string[]) => {
    try {
      loadConfig(file, overrides);
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      return String(error);
    }
    throw new Error('the config was accepted');
  };

  it('a role-reading encoding with a format whose answer roles depend on the answer', () => {
    expect(failure('configs/addition-coupled.yaml', ['format.name=plain'])).toMatch(
      /format.name: model.pos "coupled" .* format "plain" writes answers .*: reversed, zero-padded, index-hints, reversed-padded, index-hints-window/,
    );
  });

  it('a role-reading encoding with a format that declares no roles', () => {
    const config = loadConfig('configs/addition-abacus.yaml');
    const data = dataSetup(config);
    const fail = (field: string, message: string): never => {
      throw new UserError(message, { field });
    };
    expect(() => checkPositions(config, { ...data, format: { ...data.format, roles: null } }, fail)).toThrow(
      /model.pos "abacus" needs the role of each token, and format "reversed" declares none; formats that do: plain/,
    );
  });

  it('model.attention_ids: roles without a role reader, without a signed attention-side scheme, or with causal T5 buckets', () => {
    expect(failure('configs/addition-nope.yaml', ['model.pos=t5', 'model.attention_ids=roles'])).toMatch(
      /model.attention_ids: "roles" reads the ids of coupled or abacus, and model.pos "t5" has neither/,
    );
    expect(failure('configs/addition-coupled.yaml', ['model.attention_ids=roles'])).toMatch(
      /model.attention_ids: .* model.pos "coupled" has no attention-side scheme that reads signed distances; list t5 .* or rope/,
    );
    expect(failure('configs/addition-coupled.yaml', ['model.pos=[coupled, t5]', 'model.attention_ids=roles'])).toMatch(
      /model.t5_bidirectional: .* set model.t5_bidirectional to true/,
    );
    expect(failure('configs/addition-coupled.yaml', ['model.role_table=false'])).toMatch(
      /model.role_table: false drops the table of role ids, and with model.attention_ids "sequence" nothing else reads them/,
    );
  });

  it('a coupling or Abacus table too small for the test lengths', () => {
    expect(failure('configs/addition-coupled.yaml', ['model.max_position=32'])).toMatch(
      /model.max_position: model.pos "coupled" needs 33 table rows for 10-digit training and 30-digit test problems .* set it to at least 33/,
    );
    expect(failure('configs/addition-abacus.yaml', ['model.max_position=100'])).toMatch(
      /model.max_position: model.pos "abacus" needs 112 table rows .*model.abacus_offset.* at least 112/,
    );
  });

  it('without a table (model.role_table: false) max_position bounds no id: 200-digit queries are written', () => {
    const config = loadConfig('configs/addition-coupled-relative.yaml', ['model.max_position=32', 'task.test_digits=[1,200]']);
    const experiment = prepareExperiment(config);
    const written = writeQuery(experiment, { op: 'add', a: 10n ** 199n, b: 10n ** 199n });
    expect(written.ok).toBe(true);
    if (written.ok) expect(Math.max(...written.query.positions!)).toBeGreaterThan(200);
  });

  it('randomized positions: L below the longest test sequence, an encoding without positions, a table shorter than L', () => {
    expect(failure('configs/addition-rope.yaml', ['model.random_positions=20'])).toMatch(
      /model.random_positions: L = 20 is below the 30 tokens of the longest test sequence .*at least 30/,
    );
    expect(failure('configs/addition-nope.yaml', ['model.random_positions=64'])).toMatch(
      /model.random_positions: .*model.pos "nope" reads none/,
    );
    expect(failure('configs/addition-ape.yaml', ['model.random_positions=64'])).toMatch(/model.max_len: .*raise max_len to 64/);
  });

  it('a list of schemes: its role-reading part is checked, and randomized positions cannot sit beside it', () => {
    expect(failure('configs/addition-abacus.yaml', ['model.pos=[abacus, fire]', 'model.max_position=100'])).toMatch(
      /model.max_position: model.pos "abacus\+fire" needs 112 table rows .*model.abacus_offset.* at least 112/,
    );
    expect(failure('configs/addition-coupled.yaml', ['model.pos=[coupled, t5]', 'format.name=plain'])).toMatch(
      /format.name: model.pos "coupled\+t5" .* format "plain" writes answers/,
    );
    expect(failure('configs/addition-abacus.yaml', ['model.pos=[abacus, fire]', 'model.random_positions=128'])).toMatch(
      /model.random_positions: model.pos "abacus\+fire" takes its position ids from token roles/,
    );
    // t5 and fire read positions: randomized positions apply to them, alone or beside ape.
    expect(loadConfig('configs/addition-nope.yaml', ['model.pos=fire', 'model.random_positions=64']).model.random_positions).toBe(64);
    expect(
      loadConfig('configs/addition-nope.yaml', ['model.pos=[ape, t5]', 'model.random_positions=64', 'model.max_len=64']).model.pos,
    ).toEqual(['ape', 't5']);
  });

  it('the CLI prints one line and exits 2', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync('node', ['bin/arith-lab.js', 'train', '--config', 'configs/addition-coupled.yaml', '--set', 'model.max_position=20'], {
        stdio: 'pipe',
      });
    } catch (error) {
      status = (error as { status: number }).status;
      stderr = String((error as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^arith-lab: error: .*model.max_position/);
  });
});
