import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config/load.ts';
import { createRandom } from '../src/random.ts';
import { keepOneNonzeroDigit, largestRunningSum, sampleProblem } from '../src/data/sampling.ts';
import { encodeBatch } from '../src/data/batches.ts';
import { carryProfile } from '../src/data/carries.ts';
import { columns } from '../src/data/runningSum.ts';
import { buildTestSets, heldOutKeys, TrainStream, type TaskSpec } from '../src/data/dataset.ts';
import { getFormat } from '../src/data/formats/index.ts';
import { problemKey, parseProblem, type Problem } from '../src/data/problem.ts';
import { EOS_ID, PAD_ID, BOS_ID, Tokenizer } from '../src/data/tokenizer.ts';
import { prepareExperiment } from '../src/config/experiment.ts';

const task: TaskSpec = {
  op: 'add',
  trainDigits: [1, 3],
  testDigits: [1, 5],
  testSize: 300,
  trainSize: null,
  sampling: 'uniform',
  operandLengths: 'independent',
};

describe('tokenizer', () => {
  it('matches multi-character symbols longest first and round-trips', () => {
    const tokenizer = new Tokenizer(['h1', 'h12', 'h', '1', '2', ' ']);
    const ids = tokenizer.encode('h12 h1 2');
    expect(ids.map((id) => tokenizer.tokens[id])).toEqual(['h12', ' ', 'h1', ' ', '2']);
    expect(tokenizer.decode(ids)).toBe('h12 h1 2');
  });

  it('reserves pad, bos, eos and stops decoding at eos', () => {
    const tokenizer = new Tokenizer(['0', '1']);
    expect(tokenizer.tokens.slice(0, 3)).toEqual(['<pad>', '<bos>', '<eos>']);
    expect(tokenizer.decode([BOS_ID, 3, 4, EOS_ID, 3])).toBe('01');
  });

  it('names the character it cannot encode', () => {
    expect(() => new Tokenizer(['0']).encode('0x')).toThrow(/"x" at offset 1/);
  });
});

describe('held-out test sets', () => {
  it('are disjoint from every training problem, fixed set or fresh stream', () => {
    const testSets = buildTestSets(task, 7);
    const heldOut = heldOutKeys(testSets);
    const fresh = new TrainStream(task, 7, heldOut);
    for (let i = 0; i < 40; i++) for (const p of fresh.next(256, 1)) expect(heldOut.has(problemKey(p))).toBe(false);
    const fixed = new TrainStream({ ...task, trainSize: 5000 }, 7, heldOut);
    for (const p of fixed.problems!) expect(heldOut.has(problemKey(p))).toBe(false);
    expect(new Set(fixed.problems!.map(problemKey)).size).toBe(5000);
  });

  it('hold out at most a tenth of a short length and the full size beyond the training range', () => {
    const testSets = buildTestSets(task, 1);
    expect(testSets.get(1)!.length).toBe(10); // 100 one-digit pairs
    expect(testSets.get(2)!.length).toBe(300);
    expect(testSets.get(5)!.length).toBe(300);
    for (const [digits, problems] of testSets) {
      for (const p of problems) {
        expect(p.a.toString().length).toBe(digits);
        expect(p.b.toString().length).toBe(digits);
      }
      expect(new Set(problems.map(problemKey)).size).toBe(problems.length);
    }
  });

  it('the training stream never sees held-out problems even when they are most of a length', () => {
    const tiny: TaskSpec = { ...task, trainDigits: [1, 1], testDigits: [1, 1] };
    const heldOut = heldOutKeys(buildTestSets(tiny, 3));
    const seen = new Set(new TrainStream(tiny, 3, heldOut).next(5000, 1).map(problemKey));
    expect(seen.size).toBe(90); // every one-digit pair except the 10 held out
  });
});

describe('operand lengths', () => {
  it('independent lengths mix lengths within a problem; equal lengths never do', () => {
    const lengths = (operandLengths: 'independent' | 'equal') => {
      const spec: TaskSpec = { ...task, trainDigits: [1, 4], operandLengths };
      return new TrainStream(spec, 9, new Set()).next(2000, 1).map((p) => [p.a.toString().length, p.b.toString().length]);
    };
    const independent = lengths('independent');
    expect(independent.filter(([x, y]) => x !== y).length).toBeGreaterThan(1200); // 3/4 expected
    const equal = lengths('equal');
    expect(equal.every(([x, y]) => x === y)).toBe(true);
    for (const n of [1, 2, 3, 4]) expect(equal.filter(([x]) => x === n).length).toBeGreaterThan(400);
  });
});

describe('seeded reproducibility', () => {
  it('the same seed gives the same data; another seed different data', () => {
    const draw = (seed: number) => {
      const heldOut = heldOutKeys(buildTestSets(task, seed));
      return new TrainStream(task, seed, heldOut).next(50, 1).map(problemKey);
    };
    expect(draw(11)).toEqual(draw(11));
    expect(draw(11)).not.toEqual(draw(12));
    expect([...buildTestSets(task, 11).get(4)!].map(problemKey)).toEqual([...buildTestSets(task, 11).get(4)!].map(problemKey));
  });

  it('a restored stream continues with exactly the same problems', () => {
    for (const trainSize of [null, 300]) {
      const spec = { ...task, trainSize };
      const heldOut = heldOutKeys(buildTestSets(spec, 5));
      const original = new TrainStream(spec, 5, heldOut);
      original.next(700, 1); // crosses two epochs of the fixed set
      const state = JSON.parse(JSON.stringify(original.state()));
      const expected = original.next(400, 1).map(problemKey);
      const resumed = new TrainStream(spec, 5, heldOut);
      resumed.restore(state);
      expect(resumed.next(400, 1).map(problemKey)).toEqual(expected);
    }
  });
});

describe("balanced sampling (Lee'23)", () => {
  it('contains all 100 one-digit pairs and balances carries at the longest length', () => {
    const spec: TaskSpec = { ...task, testDigits: [3, 3], testSize: 100, trainSize: 3000, sampling: 'balanced' };
    const stream = new TrainStream(spec, 2, heldOutKeys(buildTestSets(spec, 2)));
    const problems = stream.problems!;
    const oneDigit = problems.filter((p) => p.a < 10n && p.b < 10n);
    expect(oneDigit.length).toBe(100);
    const twoDigit = problems.filter((p) => p.a >= 10n && p.a < 100n);
    expect(twoDigit.length).toBeGreaterThan(200); // ~9% of 2,900
    expect(twoDigit.length).toBeLessThan(340);
    const threeDigit = problems.filter((p) => p.a >= 100n);
    const byCarries = [0, 1, 2, 3].map((c) => threeDigit.filter((p) => carryProfile(p.a, p.b).count === c).length);
    for (const count of byCarries) expect(count / threeDigit.length).toBeGreaterThan(0.2); // uniform would be 0.25
  });

  it('counts carries and the longest chain', () => {
    expect(carryProfile(999n, 1n)).toEqual({ count: 3, longestChain: 3 });
    expect(carryProfile(128n, 367n)).toEqual({ count: 1, longestChain: 1 });
    expect(carryProfile(191n, 19n)).toEqual({ count: 2, longestChain: 2 });
    expect(carryProfile(123n, 456n)).toEqual({ count: 0, longestChain: 0 });
  });
});

describe('batches', () => {
  it('put <bos> first, mask the loss to the answer and right-pad', () => {
    const format = getFormat('reversed');
    const options = { padWidth: 3, maxDigits: 3 };
    const tokenizer = new Tokenizer(format.vocabulary(options));
    const examples = [parseProblem('128+367')!, parseProblem('1+2')!].map((p) => format.encode(p, options));
    const batch = encodeBatch(examples, tokenizer, 'answer');
    // <bos> $128+367= 594$\n <eos> is 16 tokens, so 15 input positions.
    expect(batch.seqLen).toBe(15);
    const row0 = Array.from(batch.inputs.slice(0, 15))
      .map((id) => tokenizer.tokens[id])
      .join('');
    expect(row0).toBe('<bos>$128+367=594$\n');
    const targets0 = Array.from(batch.targets.slice(0, 15))
      .map((id) => tokenizer.tokens[id])
      .join('');
    expect(targets0).toBe('$128+367=594$\n<eos>');
    // The loss starts where the target's first token is predicted (after "=") and ends at <eos>.
    expect(Array.from(batch.lossMask.slice(0, 15))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    // Row 1 (<bos>$1+2=3$\n<eos>) is padded with <pad> that carries no loss.
    expect(Array.from(batch.inputs.slice(15 + 9))).toEqual(Array(6).fill(PAD_ID));
    expect(Array.from(batch.lossMask.slice(15 + 5, 15 + 9))).toEqual([1, 1, 1, 1]);
    expect(Array.from(batch.lossMask.slice(15 + 9))).toEqual([0, 0, 0, 0, 0, 0]);
    const all = encodeBatch(examples, tokenizer, 'all');
    expect(Array.from(all.lossMask.slice(0, 15)).every((m) => m === 1)).toBe(true);
  });

  it('every shipped config renders its examples within model.max_len', () => {
    for (const name of ['nope', 'ape', 'sinusoidal', 'rope', 'alibi', 'plain', 'scratchpad-simple', 'scratchpad-detailed']) {
      const experiment = prepareExperiment(loadConfig(`configs/addition-${name}.yaml`));
      expect(experiment.tokenizer.size).toBeGreaterThan(12);
    }
    expect(prepareExperiment(loadConfig('configs/multiplication-reversed.yaml')).config.task.op).toBe('mul');
  });
});

describe("Qiu'24 multiplication sampling", () => {
  it('keeps exactly one nonzero digit, in place', () => {
    const random = createRandom(3, 'qiu-test');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(keepOneNonzeroDigit(random, 6078n).toString());
    // Every nonzero digit can be the one kept, and nothing else comes out.
    expect([...seen].sort()).toEqual(['6000', '70', '8']);
    expect(keepOneNonzeroDigit(random, 0n)).toBe(0n);
    expect(keepOneNonzeroDigit(random, 500n)).toBe(500n);
  });

  it('sparsifies the second operand of about 45% of problems and leaves the first alone', () => {
    const spec = {
      op: 'mul' as const,
      trainDigits: [3, 3] as [number, number],
      sampling: 'qiu' as const,
      operandLengths: 'independent' as const,
    };
    const random = createRandom(0, 'qiu-share');
    const n = 4000;
    let sparse = 0;
    let sparseFirst = 0;
    const nonzeroDigits = (x: bigint) => [...x.toString()].filter((d) => d !== '0').length;
    for (let i = 0; i < n; i++) {
      const p = sampleProblem(random, spec);
      if (nonzeroDigits(p.b) <= 1) sparse++;
      if (nonzeroDigits(p.a) <= 1) sparseFirst++;
    }
    // A uniform 3-digit operand has one nonzero digit with probability 9/900; Qiu adds 45% on top.
    expect(sparse / n).toBeGreaterThan(0.42);
    expect(sparse / n).toBeLessThan(0.5);
    expect(sparseFirst / n).toBeLessThan(0.03);
  });

  it('is refused for addition, naming the field', () => {
    expect(() => addConfig('qiu')).toThrow(field('task.sampling'));
  });
});

/** What a config error naming `name` matches. */
const field = (name: string) => expect.objectContaining({ details: expect.objectContaining({ field: name }) });

/** A 1-3 digit addition config drawn with `sampling`: the multiplication-only samplings refuse it. */
const addConfig = (sampling: string) =>
  parseConfig(
    {
      task: { op: 'add', train_digits: [1, 3], test_digits: [3, 3], sampling },
      format: { name: 'reversed' },
      train: { steps: 10 },
    },
    'x.yaml',
  );

/** A 4x4 multiplication config with `task` merged into its task section. */
const mulConfig = (task: object) =>
  parseConfig(
    {
      task: { op: 'mul', train_digits: [4, 4], test_digits: [4, 4], ...task },
      format: { name: 'reversed-all' },
      model: { max_len: 24 },
      train: { steps: 10 },
    },
    'x.yaml',
  );

describe('large-digits sampling', () => {
  const spec = (lengths: [number, number]) => ({
    op: 'mul' as const,
    trainDigits: lengths,
    sampling: 'large-digits' as const,
    operandLengths: 'independent' as const,
  });

  it('draws every digit of both operands from 5-9 in about a quarter of problems, lengths as uniform draws them', () => {
    const random = createRandom(0, 'large-digits');
    const n = 4000;
    let large = 0;
    const lengths = new Set<string>();
    const allLarge = (x: bigint) => [...x.toString()].every((d) => d >= '5');
    for (let i = 0; i < n; i++) {
      const p = sampleProblem(random, spec([2, 4]));
      if (allLarge(p.a) && allLarge(p.b)) large++;
      lengths.add(`${p.a.toString().length}x${p.b.toString().length}`);
    }
    // Uniform operands of 2-4 digits are both all-large in about 3% of problems; the sampler adds 25% on top.
    expect(large / n).toBeGreaterThan(0.25);
    expect(large / n).toBeLessThan(0.31);
    expect(lengths.size).toBe(9);
  });

  it('puts the middle column of 4x4 above 150 several times as often as uniform sampling', () => {
    const middle = (sampling: 'uniform' | 'large-digits') => {
      const random = createRandom(1, 'large-digits-middle');
      let high = 0;
      for (let i = 0; i < 2000; i++) {
        const p = sampleProblem(random, { ...spec([4, 4]), sampling });
        if (columns(p)[3].runningSum >= 150) high++;
      }
      return high / 2000;
    };
    expect(middle('uniform')).toBeLessThan(0.14);
    expect(middle('large-digits')).toBeGreaterThan(0.3);
  });

  it('task.large_digits_share sets the share, from config to sampler', () => {
    const share = (largeDigitsShare: number | undefined) => {
      const task = prepareExperiment(
        mulConfig({ sampling: 'large-digits', ...(largeDigitsShare && { large_digits_share: largeDigitsShare }) }),
      ).task;
      const random = createRandom(2, 'large-digits-share');
      let large = 0;
      for (let i = 0; i < 4000; i++) {
        const p = sampleProblem(random, task);
        if ([...`${p.a}${p.b}`].every((d) => d >= '5')) large++;
      }
      return large / 4000;
    };
    // All eight digits of a uniform 4x4 problem are 5-9 in 1 problem in 256 (0.4%).
    expect(share(undefined)).toBeCloseTo(0.25, 1);
    expect(share(0.6)).toBeGreaterThan(0.57);
    expect(share(0.6)).toBeLessThan(0.63);
  });

  it('task.large_digits_share without large-digits sampling is refused, naming the field', () => {
    expect(() => mulConfig({ large_digits_share: 0.5 })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'task.large_digits_share' }) }),
    );
    expect(() =>
      mulConfig({ large_digits_share: 0.5, curriculum: [{ until_step: 5, train_digits: [4, 4], sampling: 'large-digits' }] }),
    ).not.toThrow();
  });
});

describe('large-sums sampling', () => {
  const draw = (task: object, n: number, seed = 3) => {
    const spec = prepareExperiment(mulConfig(task)).task;
    const random = createRandom(seed, 'large-sums');
    return Array.from({ length: n }, () => sampleProblem(random, spec));
  };
  const tail = (problems: Problem[], from: number) => problems.filter((p) => largestRunningSum(p) >= from).length / problems.length;

  it('the largest running column sum: 9999 x 9999 peaks at 350 in its middle column, 12 x 34 at 10', () => {
    expect(largestRunningSum({ op: 'mul', a: 9999n, b: 9999n })).toBe(
      Math.max(...columns({ op: 'mul', a: 9999n, b: 9999n }).map((c) => c.runningSum)),
    );
    expect(largestRunningSum({ op: 'mul', a: 12n, b: 34n })).toBe(10); // 408: columns 8, 6 + 4 = 10, 3 + 1 = 4
  });

  it('a quarter of the problems from the tail at 150 by default, digits mixed as uniform draws them', () => {
    const uniform = draw({ sampling: 'uniform' }, 4000);
    const sampled = draw({ sampling: 'large-sums' }, 4000);
    // Uniform 4x4 reaches 150 in about one problem in nine; the sampler adds a quarter of all problems.
    expect(tail(uniform, 150)).toBeGreaterThan(0.08);
    expect(tail(uniform, 150)).toBeLessThan(0.14);
    expect(tail(sampled, 150)).toBeGreaterThan(0.25 + 0.75 * 0.08);
    expect(tail(sampled, 150)).toBeLessThan(0.25 + 0.75 * 0.14);
    // Not large-digits: few tail problems have every digit 5-9.
    const allLarge = sampled.filter((p) => largestRunningSum(p) >= 150 && [...`${p.a}${p.b}`].every((d) => d >= '5')).length;
    expect(allLarge / sampled.length).toBeLessThan(0.05);
  });

  it('task.large_sums sets the share and the threshold, from config to sampler', () => {
    const sampled = draw({ sampling: 'large-sums', large_sums: { share: 0.5, from: 200 } }, 4000);
    expect(tail(sampled, 200)).toBeGreaterThan(0.48);
    expect(tail(sampled, 200)).toBeLessThan(0.56);
    expect(prepareExperiment(mulConfig({ sampling: 'large-sums', large_sums: { from: 120 } })).task.largeSums).toEqual({
      share: 0.25,
      from: 120,
    });
  });

  it('refused in one line naming the field: without the sampling, for addition, and from a sum no problem reaches', () => {
    expect(() => mulConfig({ large_sums: { share: 0.5 } })).toThrow(field('task.large_sums'));
    expect(() => addConfig('large-sums')).toThrow(field('task.sampling'));
    // 1x1 products reach 81; 2x2 reach 170 (99 x 99: 81 + 81 + the carry 8), so 2x2 is allowed.
    expect(() => mulConfig({ curriculum: [{ until_step: 5, train_digits: [2, 2], sampling: 'large-sums' }] })).not.toThrow();
    expect(() => mulConfig({ curriculum: [{ until_step: 5, train_digits: [1, 1], sampling: 'large-sums' }] })).toThrow(
      field('task.curriculum.0.sampling'),
    );
    expect(() => mulConfig({ sampling: 'large-sums', large_sums: { from: 400 } })).toThrow(field('task.large_sums.from'));
  });
});

describe('large-mixed sampling', () => {
  const draw = (task: object, n: number) => {
    const spec = prepareExperiment(mulConfig(task)).task;
    const random = createRandom(4, 'large-mixed');
    return Array.from({ length: n }, () => sampleProblem(random, spec));
  };
  const share = (problems: Problem[], keep: (p: Problem) => boolean) => problems.filter(keep).length / problems.length;
  const allLarge = (p: Problem) => [...`${p.a}${p.b}`].every((d) => d >= '5');
  const inRange = (lo: number, hi: number) => (p: Problem) => largestRunningSum(p) >= lo && largestRunningSum(p) < hi;

  it('draws both tails at their own shares: all-large digits (sums near 200) and the uniform tail just above from', () => {
    const sampled = draw({ sampling: 'large-mixed', large_digits_share: 0.2, large_sums: { share: 0.3 } }, 5000);
    // Uniform 4x4 has every digit 5-9 in one problem in 256; large-mixed adds its large-digits share.
    expect(share(sampled, allLarge)).toBeGreaterThan(0.18);
    expect(share(sampled, allLarge)).toBeLessThan(0.23);
    // The uniform tail (150 and more in one problem in nine, mostly below 180) plus the large-sums share; the
    // all-large problems sit mostly above 180.
    const notAllLarge = sampled.filter((p) => !allLarge(p));
    expect(share(notAllLarge, inRange(150, 1000))).toBeGreaterThan((0.3 + 0.5 * 0.08) / 0.8);
    expect(share(notAllLarge, inRange(150, 1000))).toBeLessThan((0.3 + 0.5 * 0.14) / 0.8);
    expect(share(sampled.filter(allLarge), inRange(180, 1000))).toBeGreaterThan(0.6);
  });

  it('each share defaults to its sampling alone, and together they may not pass 1, naming the field', () => {
    expect(prepareExperiment(mulConfig({ sampling: 'large-mixed' })).task).toMatchObject({ sampling: 'large-mixed' });
    const defaults = draw({ sampling: 'large-mixed' }, 4000);
    expect(share(defaults, allLarge)).toBeGreaterThan(0.22);
    expect(share(defaults, allLarge)).toBeLessThan(0.28);
    expect(() => mulConfig({ sampling: 'large-mixed', large_digits_share: 0.6, large_sums: { share: 0.5 } })).toThrow(
      field('task.large_digits_share'),
    );
    expect(() => mulConfig({ sampling: 'large-mixed', large_digits_share: 0.3, large_sums: { share: 0.8 } })).toThrow(
      field('task.large_sums.share'),
    );
    expect(() => mulConfig({ sampling: 'large-mixed', large_sums: { share: 0.9 } })).toThrow(field('task.large_sums.share'));
    expect(() => mulConfig({ sampling: 'large-mixed', large_digits_share: 0.8 })).toThrow(field('task.large_digits_share'));
    expect(() => mulConfig({ sampling: 'large-mixed', large_digits_share: 0.75 })).not.toThrow();
    expect(() => addConfig('large-mixed')).toThrow(field('task.sampling'));
    // Both fields belong to it: neither is refused as belonging to another sampling.
    expect(() => mulConfig({ sampling: 'large-mixed', large_digits_share: 0.1, large_sums: { share: 0.1, from: 160 } })).not.toThrow();
  });
});
