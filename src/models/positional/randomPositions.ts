import { z } from 'zod';
import type { Random } from '../../random.ts';

/**
 * Randomized positions (Ruoss et al. 2023, "Randomized Positional Encodings Boost Length Generalization of
 * Transformers"): during training the n positions of a sequence are a sorted random subset of [0, L), so a
 * position-indexed encoding sees positions up to L while training on short sequences. Every encoding that
 * declares `positionIndexed` takes these options. Their code draws random positions at evaluation too; Zhou et
 * al. 2024 evaluate with 0..n-1: the regime is a config choice.
 */
export const randomPositionOptions = {
  randomPositions: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(null)
    .describe('L: train on a sorted random subset of positions [0, L) (Ruoss et al. 2023); null: positions 0..n-1'),
  randomPositionsEval: z
    .enum(['sequential', 'random'])
    .default('sequential')
    .describe('with random_positions, positions at evaluation: 0..n-1 (Zhou et al. 2024) or a random subset (Ruoss et al.)'),
};

/** n distinct integers of [0, range), increasing, each subset equally likely (Knuth's selection sampling). */
export function sortedRandomSubset(n: number, range: number, random: Random): number[] {
  if (n > range) throw new Error(`cannot draw ${n} distinct positions from [0, ${range}): model.random_positions is too small`);
  const chosen: number[] = [];
  for (let i = 0; i < range && chosen.length < n; i++) {
    if (random.next() * (range - i) < n - chosen.length) chosen.push(i);
  }
  return chosen;
}
