import type { OptionValues, PositionalEncoding } from './positional.ts';
import { addTableRows, roleIdsOptions, roleTableParameter, checkIds, isDigit, maxSignificance, roleTableOptions } from './roleTable.ts';

/**
 * Position coupling (Cho et al. 2024, "Position Coupling: Improving Length Generalization of Arithmetic
 * Transformers Using Task Structure"; code: HanseulJo/position-coupling, src/data/addition.py). Digits of equal
 * significance in both operands and the answer share one position id: with start s, the digit of significance k
 * gets s + 1 + k (the convention of their commit 384431c, "least significant digit has least position ID"),
 * operators (`+`, `=`) get s, every other token 0. Training draws s uniformly so that the largest id reaches
 * the last row of the table (every row is trained); evaluation uses s = 1. A learned table of
 * model.max_position rows (`coupled.weight`) is added to the token embeddings.
 */
export const coupled = {
  name: 'coupled',
  description: 'position coupling (Cho et al. 2024): digits of equal significance share a learned position id',
  extrapolates: true,
  options: { ...roleTableOptions, ...roleIdsOptions },
  parameters: (shape, options) => roleTableParameter('coupled.weight', options, shape.dModel),
  positionsFromRoles(roles, options, draw) {
    const largest = maxSignificance(roles);
    // Ids reach s + 1 + largest, which must stay below maxPosition.
    const lastStart = options.maxPosition - 2 - largest;
    const start = draw.training && lastStart > 1 ? draw.random.int(1, lastStart) : 1;
    const ids = roles.map((role) => (isDigit(role) ? start + 1 + role.significance! : role.kind === 'operator' ? start : 0));
    return checkIds(ids, 'coupled', options);
  },
  tableRows: (trainSignificance, testSignificance) => Math.max(trainSignificance, testSignificance) + 3,
  embed: (tokenEmbeddings, context) => addTableRows(tokenEmbeddings, context, 'coupled.weight', 'coupled'),
} satisfies PositionalEncoding<OptionValues<typeof roleTableOptions>>;
