import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { dataCommand } from '../src/cli/data.ts';
import { UserError } from '../src/errors.ts';

/** `arith-lab data ...` in this process, as the CLI parses it; console output captured. */
async function data(argv: string[]): Promise<{ lines: string[]; error: unknown }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...parts) => void lines.push(...parts.join(' ').split('\n')));
  try {
    await yargs(['data', ...argv])
      .command(dataCommand)
      .strict()
      .fail((message, error) => {
        throw error ?? new UserError(message);
      })
      .parseAsync();
    return { lines, error: null };
  } catch (error) {
    return { lines, error };
  }
}

afterEach(() => vi.restoreAllMocks());

/** The `"token":id` pairs of a `positions` line. */
const pairs = (line: string) =>
  [...line.matchAll(/("(?:[^"\\]|\\.)*"):(\d+)/g)].map((m) => [JSON.parse(m[1]) as string, Number(m[2])] as const);

describe('data --positions', () => {
  it('coupled: each token with its id at evaluation (start 1) and in a training draw (one random start)', async () => {
    const { lines, error } = await data(['-c', 'configs/addition-coupled.yaml', '--problem', '128+367', '--positions']);
    expect(error).toBeNull();
    // The convention of src/models/positional/coupled.ts: with start s, significance k gets s + 1 + k, `+` and `=` get s.
    expect(lines).toContain(
      '  positions at evaluation     "<bos>":0 "$":0 "1":4 "2":3 "8":2 "+":1 "3":4 "6":3 "7":2 "=":1 "5":2 "9":3 "4":4 "$":0 "\\n":0',
    );
    const evaluation = pairs(lines.find((l) => l.includes('at evaluation'))!);
    const training = pairs(lines.find((l) => l.includes('a training draw'))!);
    expect(training.map(([token]) => token)).toEqual(evaluation.map(([token]) => token));
    // Training shifts every non-zero id by one start s - 1 (max_position 64: the largest id, s + 4, stays below 64).
    const shift = training[5][1] - evaluation[5][1];
    expect(shift).toBeGreaterThanOrEqual(0);
    expect(training[5][1] + 3).toBeLessThan(64);
    training.forEach(([, id], t) => expect(id).toBe(evaluation[t][1] === 0 ? 0 : evaluation[t][1] + shift));
  });

  it('randomized positions: a sorted random subset in training, 0..n-1 at evaluation', async () => {
    const { lines, error } = await data([
      '-c',
      'configs/addition-ape.yaml',
      '--set',
      'model.random_positions=64',
      '--set',
      'model.max_len=64',
      '--problem',
      '12+34',
      '--positions',
    ]);
    expect(error).toBeNull();
    const evaluation = pairs(lines.find((l) => l.includes('at evaluation'))!).map(([, id]) => id);
    expect(evaluation).toEqual(evaluation.map((_, t) => t));
    const training = pairs(lines.find((l) => l.includes('a training draw'))!).map(([, id]) => id);
    expect(training).toHaveLength(evaluation.length);
    training.slice(1).forEach((id, t) => expect(id).toBeGreaterThan(training[t]));
    expect(training.at(-1)!).toBeLessThan(64);
  });

  it('an encoding that reads 0, 1, 2, ... has no ids to show: one error naming --positions', async () => {
    const { error } = await data(['-c', 'configs/addition-ape.yaml', '--problem', '12+34', '--positions']);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).details.field).toBe('--positions');
    expect((error as UserError).message).toMatch(/coupled, abacus or model\.random_positions/);
  });
});
