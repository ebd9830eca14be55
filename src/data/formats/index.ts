import { cotMultiplication } from './cot-multiplication.ts';
import type { DataFormat } from './format.ts';
import { indexHintsWindow } from './index-hints-window.ts';
import { indexHints } from './index-hints.ts';
import { plainDelimited } from './plain-delimited.ts';
import { plain } from './plain.ts';
import { reversedPadded } from './reversed-padded.ts';
import { reversedAll } from './reversed-all.ts';
import { reversed } from './reversed.ts';
import { scratchpadDetailed } from './scratchpad-detailed.ts';
import { scratchpadSimple } from './scratchpad-simple.ts';
import { zeroPadded } from './zero-padded.ts';

/** Every data format by its config name. Adding a format is one file and one line here. */
export const FORMATS: Record<string, DataFormat> = Object.fromEntries(
  [
    plain,
    plainDelimited,
    reversed,
    zeroPadded,
    scratchpadSimple,
    scratchpadDetailed,
    indexHints,
    reversedPadded,
    indexHintsWindow,
    cotMultiplication,
    reversedAll,
  ].map((format) => [format.name, format]),
);

export const FORMAT_NAMES: readonly string[] = Object.keys(FORMATS);

export function getFormat(name: string): DataFormat {
  const format = Object.hasOwn(FORMATS, name) ? FORMATS[name] : undefined;
  if (!format) throw new Error(`unknown format '${name}'; valid formats: ${FORMAT_NAMES.join(', ')}`);
  return format;
}
