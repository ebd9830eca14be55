import { z } from 'zod';
import { abacus } from './abacus.ts';
import { alibi } from './alibi.ts';
import { ape } from './ape.ts';
import { composePositional } from './compose.ts';
import { coupled } from './coupled.ts';
import { fire } from './fire.ts';
import { nope } from './nope.ts';
import type { OptionSchemas, OptionValues, PositionalEncoding } from './positional.ts';
import { rope } from './rope.ts';
import { sinusoidal } from './sinusoidal.ts';
import { t5 } from './t5.ts';

/** Registry: a new positional encoding is one file plus one entry here (its options come with it). */
const ENCODINGS = { nope, ape, sinusoidal, rope, alibi, t5, fire, coupled, abacus };

type Encoding = (typeof ENCODINGS)[keyof typeof ENCODINGS];
type SchemasOf<E> = E extends { options: infer Schemas } ? Schemas : object;
/** A union's members as one type (A | B becomes A & B). */
type Intersection<U> = (U extends unknown ? (member: U) => void : never) extends (all: infer I) => void ? I : never;

/** Every positional encoding's option schemas, by the name the model config uses. */
export type PositionalOptionSchemas = Intersection<SchemasOf<Encoding>>;
/** Every positional encoding's options: what the model config holds beyond its shape. */
export type PositionalOptions = OptionValues<PositionalOptionSchemas>;

const POSITIONAL_ENCODINGS: Record<string, PositionalEncoding<PositionalOptions>> = ENCODINGS;
export const POSITIONAL_NAMES = Object.keys(POSITIONAL_ENCODINGS) as [string, ...string[]];

/** Every encoding's options together. Two encodings may share an option only by declaring the same schema. */
export const POSITIONAL_OPTIONS = Object.values(POSITIONAL_ENCODINGS).reduce<OptionSchemas>((all, pe) => {
  for (const [name, schema] of Object.entries(pe.options ?? {})) {
    if (all[name] && all[name] !== schema) throw new Error(`positional encodings declare option "${name}" twice; import one declaration`);
    all[name] = schema;
  }
  return all;
}, {}) as PositionalOptionSchemas;

/** Every option at its default, for a model config built by hand (tests, benchmarks). */
export function defaultPositionalOptions(): PositionalOptions {
  return z.object(POSITIONAL_OPTIONS).parse({}) as PositionalOptions;
}

/** `model.pos`: one scheme's name, or a list of schemes to combine (one input-side, one attention-side). */
export type PositionalName = string | readonly string[];

/** The scheme names of a `model.pos` value, as a list. */
export function positionalNames(pos: PositionalName): string[] {
  return typeof pos === 'string' ? [pos] : [...pos];
}

/** A `model.pos` value in one word for logs and tables: `fire`, or `abacus+fire` for a combination. */
export function positionalLabel(pos: PositionalName): string {
  return positionalNames(pos).join('+');
}

/** The scheme a `model.pos` value names; a list gives the schemes composed (compose.ts). */
export function getPositionalEncoding(pos: PositionalName): PositionalEncoding<PositionalOptions> {
  const pes = positionalNames(pos).map((name) => {
    const pe = POSITIONAL_ENCODINGS[name];
    if (!pe) throw new Error(`unknown positional encoding "${name}" (expected one of ${POSITIONAL_NAMES.join(', ')})`);
    return pe;
  });
  return composePositional(pes);
}
