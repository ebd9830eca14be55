import type { z } from 'zod';
import { POSITIONAL_OPTIONS, type PositionalOptions, type PositionalOptionSchemas } from '../models/positional/index.ts';

/** ropeFraction → rope_fraction: the config file's spelling of a model-side name. */
type SnakeCase<Name extends string> = Name extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : Name;
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

type ConfigSchemas = { [Name in keyof PositionalOptionSchemas as SnakeCase<Name & string>]: PositionalOptionSchemas[Name] };

/**
 * The positional encodings' options as fields of the config's `model` section, in snake_case: each is declared
 * once, in its encoding's file (src/models/positional/positional.ts says how).
 */
export const positionalOptionFields = Object.fromEntries(
  Object.entries(POSITIONAL_OPTIONS).map(([name, schema]) => [snakeCase(name), schema]),
) as ConfigSchemas;

/** The options' values from a parsed `model` section, under the model config's names. */
export function positionalOptions(model: { [Name in keyof ConfigSchemas]: z.output<ConfigSchemas[Name]> }): PositionalOptions {
  const fields = model as Record<string, unknown>;
  return Object.fromEntries(Object.keys(POSITIONAL_OPTIONS).map((name) => [name, fields[snakeCase(name)]])) as PositionalOptions;
}
