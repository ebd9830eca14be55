/**
 * Parameter name prefix of the running-sum head that reads block `layer` (src/models/auxLoss.ts): `aux_head` when
 * the loss reads one block (the names every earlier checkpoint has), `aux_head.<layer>` when it reads several.
 * Its own module because the model (which declares the parameters) and the loss (which reads them) both need it.
 */
export const auxHeadPrefix = (layer: number, layers: readonly number[]): string => (layers.length === 1 ? 'aux_head' : `aux_head.${layer}`);
