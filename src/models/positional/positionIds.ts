import type { TokenRole } from '../../contracts/tokenRoles.ts';
import type { PositionalOptions } from './index.ts';
import type { PositionalEncoding, PositionDraw } from './positional.ts';
import { sortedRandomSubset } from './randomPositions.ts';

/** Whether the encoding reads token roles (and so needs a format that declares them). */
export const readsRoles = (pe: PositionalEncoding<PositionalOptions>) => pe.positionsFromRoles !== undefined;

/**
 * Position ids of one sequence (`<bos>` first) under the model's encoding, or null where they are 0..n-1 (every
 * encoding without roles or randomized positions, so their forward pass stays what it always was).
 */
export function positionIds(
  pe: PositionalEncoding<PositionalOptions>,
  options: PositionalOptions,
  roles: readonly TokenRole[],
  draw: PositionDraw,
): number[] | null {
  if (pe.positionsFromRoles) return pe.positionsFromRoles(roles, options, draw);
  const range = options.randomPositions;
  if (pe.positionIndexed && range !== null && (draw.training || options.randomPositionsEval === 'random')) {
    return sortedRandomSubset(roles.length, range, draw.random);
  }
  return null;
}
