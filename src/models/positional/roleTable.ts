import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { TokenRole } from '../../contracts/tokenRoles.ts';
import { embed } from '../ops.ts';
import type { ParameterSpec, PositionalContext } from './positional.ts';

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
 * Where the role ids go besides the table: which ids the attention-side part of a list reads (compose.ts), and
 * whether the table is there at all. Declared by both role readers; their hooks read them through `hasRoleTable`
 * so that the hooks' own option type stays roleTableOptions.
 */
export const roleIdsOptions = {
  roleTable: z
    .boolean()
    .default(true)
    .describe(
      'coupled, abacus: add the learned table of role ids to the embeddings; false: the ids reach only the attention side (model.attention_ids: roles)',
    ),
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

/**
 * Ids must index the table; a larger one would silently read a zero row. Without a table (model.role_table:
 * false) there is no row to run out of: max_position then only spreads the training starts, and ids may pass it.
 */
export function checkIds(ids: readonly number[], name: string, options: { maxPosition: number }): number[] {
  const largest = Math.max(0, ...ids);
  if (hasRoleTable(options) && largest >= options.maxPosition) {
    throw new Error(`"${name}" position id ${largest} is outside its table of model.max_position ${options.maxPosition} rows`);
  }
  return [...ids];
}

/** Whether the role reader has its table (model.role_table, on by default). */
export const hasRoleTable = (options: object) => (options as { roleTable?: boolean }).roleTable !== false;

/** The table's parameter, unless model.role_table is false. */
export function roleTableParameter(name: string, options: { maxPosition: number }, dModel: number): ParameterSpec[] {
  return hasRoleTable(options) ? [{ name, shape: [options.maxPosition, dModel], init: 'normal' }] : [];
}

/** Token embeddings plus the table rows of the sequence's position ids (a one-hot product: wasm has no gather gradient). */
export function addTableRows(tokenEmbeddings: tf.Tensor, context: PositionalContext, parameter: string, name: string): tf.Tensor {
  if (!context.positionIds) throw new Error(`"${name}" positions come from token roles; this forward pass was given no position ids`);
  if (!hasRoleTable(context.options)) return tokenEmbeddings;
  return tf.add(tokenEmbeddings, embed(context.positionIds, context.params[parameter]));
}
