import { UserError } from '../../errors.ts';
import { bai2025Multiplication } from './bai2025-multiplication.ts';
import { cho2024Coupling } from './cho2024-coupling.ts';
import { kazemnejad2023Pe } from './kazemnejad2023-pe.ts';
import { lee2023SampleEfficiency } from './lee2023-sample-efficiency.ts';
import { mcleish2024Abacus } from './mcleish2024-abacus.ts';
import type { Reproduction } from './reproduction.ts';

/** Every reproducible paper table by name. Adding a table is one file in this folder and one entry here. */
export const REPRODUCTIONS: Record<string, Reproduction> = Object.fromEntries(
  [lee2023SampleEfficiency, kazemnejad2023Pe, bai2025Multiplication, cho2024Coupling, mcleish2024Abacus].map((reproduction) => [
    reproduction.name,
    reproduction,
  ]),
);

export const REPRODUCTION_NAMES: readonly string[] = Object.keys(REPRODUCTIONS);

export function getReproduction(name: string): Reproduction {
  const reproduction = Object.hasOwn(REPRODUCTIONS, name) ? REPRODUCTIONS[name] : undefined;
  if (!reproduction)
    throw new UserError(`unknown experiment "${name}" (expected one of ${REPRODUCTION_NAMES.join(', ')})`, { field: 'reproduce' });
  return reproduction;
}
