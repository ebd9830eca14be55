import { alibi } from './alibi.ts';
import { ape } from './ape.ts';
import { nope } from './nope.ts';
import type { PositionalEncoding } from './positional.ts';
import { rope } from './rope.ts';
import { sinusoidal } from './sinusoidal.ts';

/** Registry: a new positional encoding is one file plus one entry here. */
export const POSITIONAL_ENCODINGS: Record<string, PositionalEncoding> = { nope, ape, sinusoidal, rope, alibi };
export const POSITIONAL_NAMES = Object.keys(POSITIONAL_ENCODINGS) as [string, ...string[]];

export function getPositionalEncoding(name: string): PositionalEncoding {
  const pe = POSITIONAL_ENCODINGS[name];
  if (!pe) throw new Error(`unknown positional encoding "${name}" (expected one of ${POSITIONAL_NAMES.join(', ')})`);
  return pe;
}
