import { z } from 'zod';
import type { OptionValues, PositionalEncoding } from './positional.ts';
import { addTableRows, roleIdsOptions, roleTableParameter, checkIds, isDigit, roleTableOptions } from './roleTable.ts';

const abacusOptions = {
  ...roleTableOptions,
  abacusOffset: z
    .number()
    .int()
    .min(0)
    .default(100)
    .describe('Abacus: largest random offset added to digit ids per training sequence (McLeish et al.: 100)'),
  abacusSymbolIds: z
    .enum(['zero', 'offset', 'before-answer'])
    .default('zero')
    .describe(
      "Abacus: the id of the tokens that are not digits: 0 (McLeish et al.); offset: the sequence's training offset, so the token before the answer knows where the units digits are; before-answer: the offset for that token only, 0 for the rest (0 at evaluation either way)",
    ),
};

/**
 * Abacus embeddings (McLeish et al. 2024, "Transformers Can Do Arithmetic with the Right Embeddings"; code:
 * mcleish7/arithmetic, abacus.py): each digit gets its index inside its own number, counted from the least
 * significant digit as their reversed numbers are (significance k → k + 1), every other token 0. During training
 * one random offset in [0, model.abacus_offset] is added to every digit id of a sequence, so the rows of long
 * numbers are trained on short ones; evaluation adds none. With `abacus_symbol_ids: offset` the other tokens carry
 * the offset instead of 0: under McLeish et al.'s 0, the token that writes the units digit (`=`) cannot tell
 * which ids are the units (offset + 1), and a trained 1-layer model kept 1.2 nats of loss on that digit in
 * training while scoring 100% at evaluation, where the offset is 0. `offset` fixes that digit but lets the model
 * read a digit's significance as its id minus the offset, an absolute position: measured, it generalized worse
 * (0% at twice the training length against 21%; docs/results.md). `before-answer` gives the offset to the token
 * before the answer only, which the answer digits' queries do not read; with length-scaled attention it made the
 * lab's Abacus variant (93% at twice the training length, median of 3 seeds). The default stays McLeish et al.'s.
 * A learned table of model.max_position rows (`abacus.weight`) is added to the token embeddings; any
 * attention-side scheme (or none) can go with it.
 */
export const abacus = {
  name: 'abacus',
  description: 'Abacus (McLeish et al. 2024): each digit embeds its index in its own number, random offset in training',
  extrapolates: true,
  options: { ...abacusOptions, ...roleIdsOptions },
  parameters: (shape, options) => roleTableParameter('abacus.weight', options, shape.dModel),
  positionsFromRoles(roles, options, draw) {
    const offset = draw.training ? draw.random.int(0, options.abacusOffset) : 0;
    const other = options.abacusSymbolIds === 'offset' ? offset : 0;
    const ids = roles.map((role) => (isDigit(role) ? offset + 1 + role.significance! : other));
    const answerStart = roles.findIndex((role) => role.kind === 'answer');
    if (options.abacusSymbolIds === 'before-answer' && answerStart > 0 && !isDigit(roles[answerStart - 1])) ids[answerStart - 1] = offset;
    return checkIds(ids, 'abacus', options);
  },
  tableRows: (trainSignificance, testSignificance, options) => Math.max(options.abacusOffset + trainSignificance, testSignificance) + 2,
  embed: (tokenEmbeddings, context) => addTableRows(tokenEmbeddings, context, 'abacus.weight', 'abacus'),
} satisfies PositionalEncoding<OptionValues<typeof abacusOptions>>;
