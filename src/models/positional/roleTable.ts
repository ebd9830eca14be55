import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { TokenRole } from '../../contracts/tokenRoles.ts';
import { embed } from '../ops.ts';
import type { PositionalContext } from './positional.ts';

/** The size of the learned table of a role-indexed encoding (position coupling, Abacus); both read this one option. */
export const roleTableOptions = {
  maxPosition: z
    .number()
    .int()
    .min(2)
    .default(128)
    .describe('rows of the learned position table of coupled and abacus (position ids 0..max_position-1)'),
};

/**
 * Which ids the attention-side part of a list beside coupled or Abacus reads (compose.ts): declared by both
 * role readers, read only by the composition, so their own hooks see just roleTableOptions.
 */
export const attentionIdsOptions = {
  attentionIds: z
    .enum(['sequence', 'roles'])
    .default('sequence')
    .describe(
      'with coupled or abacus in a list: the ids the attention-side scheme reads, 0..n-1 (sequence) or the same role ids (roles: a relative bias between coupled ids)',
    ),
};

export const isDigit = (role: TokenRole) => role.kind === 'a' || role.kind === 'b' || role.kind === 'answer';

/** The largest significance of a digit among the roles, -1 without digits. */
export function maxSignificance(roles: readonly TokenRole[]): number {
  return roles.reduce((max, role) => (isDigit(role) ? Math.max(max, role.significance!) : max), -1);
}

/** Ids must index the table; a larger one would silently read a zero row. */
export function checkIds(ids: readonly number[], name: string, maxPosition: number): number[] {
  const largest = Math.max(0, ...ids);
  if (largest >= maxPosition) {
    throw new Error(`"${name}" position id ${largest} is outside its table of model.max_position ${maxPosition} rows`);
  }
  return [...ids];
}

/** Token embeddings plus the table rows of the sequence's position ids (a one-hot product: wasm has no gather gradient). */
export function addTableRows(tokenEmbeddings: tf.Tensor, context: PositionalContext, parameter: string, name: string): tf.Tensor {
  if (!context.positionIds) throw new Error(`"${name}" positions come from token roles; this forward pass was given no position ids`);
  return tf.add(tokenEmbeddings, embed(context.positionIds, context.params[parameter]));
}
