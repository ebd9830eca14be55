import type { PositionalContext, PositionalEncoding } from './positional.ts';

/** Where a scheme acts: on the input embeddings, or inside attention (rotating q, k or biasing the logits). */
export type PositionalSide = 'input' | 'attention';

/** The sides a scheme acts on, read from the hooks it has (NoPE has none). */
export function positionalSides(pe: PositionalEncoding<never>): PositionalSide[] {
  const sides: PositionalSide[] = [];
  if (pe.embed) sides.push('input');
  if (pe.rotate || pe.attentionBias) sides.push('attention');
  return sides;
}

/**
 * Why these schemes cannot be combined, or null when they can: at most one acts on each side (McLeish et al.
 * 2024 pair an input-side Abacus with NoPE or FIRE in attention), and none twice.
 */
export function positionalConflict(pes: PositionalEncoding<never>[]): string | null {
  const names = pes.map((pe) => pe.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) return `"${repeated}" is listed twice`;
  for (const side of ['input', 'attention'] as const) {
    const onSide = pes.filter((pe) => positionalSides(pe).includes(side)).map((pe) => pe.name);
    if (onSide.length > 1) {
      const where = side === 'input' ? 'add to the embeddings' : 'act in attention';
      return `${onSide.join(' and ')} both ${where}; combine at most one input-side scheme with one attention-side scheme`;
    }
  }
  return null;
}

/**
 * Several schemes as one: the model calls this one's hooks, which call each part's in order (embeddings
 * through every `embed`, q and k through every `rotate`, the biases summed). Parameters are the parts' own,
 * under their own names.
 *
 * Position ids: when a part reads token roles (coupled, Abacus), the ids are that part's alone and every other
 * part sees the sequence positions 0..T-1 (McLeish et al. 2024 run FIRE on the sequence while Abacus indexes
 * digits), unless model.attention_ids is `roles`: then every part reads the role ids, so a relative bias (T5)
 * measures the distance between coupled ids. Otherwise the ids are randomized positions (Ruoss et al. 2023),
 * shared by every position-indexed part.
 */
export function composePositional<Options>(pes: PositionalEncoding<Options>[]): PositionalEncoding<Options> {
  if (pes.length === 0) throw new Error('no positional encoding given');
  if (pes.length === 1) return pes[0];
  const conflict = positionalConflict(pes as PositionalEncoding<never>[]);
  if (conflict) throw new Error(`cannot combine positional encodings ${pes.map((pe) => pe.name).join(', ')}: ${conflict}`);
  const roleReader = pes.find((pe) => pe.positionsFromRoles);
  // The context a part sees: the ids only where they are its own (or randomized positions it reads).
  const contextOf = (pe: PositionalEncoding<Options>, context: PositionalContext<Options>): PositionalContext<Options> => {
    if (!roleReader || pe === roleReader || !context.positionIds) return context;
    if ((context.options as { attentionIds?: string }).attentionIds === 'roles') return context;
    const { positionIds: _ids, keyPositionIds: _keyIds, ...sequential } = context;
    return sequential;
  };
  const embeds = pes.filter((pe) => pe.embed);
  const rotates = pes.filter((pe) => pe.rotate);
  const biases = pes.filter((pe) => pe.attentionBias);
  const composed: PositionalEncoding<Options> = {
    name: pes.map((pe) => pe.name).join('+'),
    description: pes.map((pe) => pe.description).join('; '),
    extrapolates: pes.every((pe) => pe.extrapolates),
    learnedBias: biases.some((pe) => pe.learnedBias),
    // Randomized positions apply only where no part takes its ids from roles (the ids would be ambiguous).
    positionIndexed: !roleReader && pes.some((pe) => pe.positionIndexed),
    parameters: (shape, options) => pes.flatMap((pe) => pe.parameters(shape, options)),
  };
  if (roleReader) {
    composed.positionsFromRoles = (roles, options, draw) => roleReader.positionsFromRoles!(roles, options, draw);
    if (roleReader.tableRows) composed.tableRows = (train, test, options) => roleReader.tableRows!(train, test, options);
  }
  if (embeds.length) composed.embed = (x, context) => embeds.reduce((y, pe) => pe.embed!(y, contextOf(pe, context)), x);
  if (rotates.length) {
    composed.rotate = (qkv, context) => rotates.reduce((x, pe) => pe.rotate!(x, contextOf(pe, context)), qkv);
  }
  if (biases.length) {
    composed.attentionBias = (context) =>
      biases.map((pe) => pe.attentionBias!(contextOf(pe, context))).reduce((sum, bias) => sum.add(bias));
  }
  return composed;
}
