import YAML from 'yaml';
import { UserError } from '../../errors.ts';

/**
 * `--grid field=v1,v2,...`: one axis of a sweep. Values are read as YAML, like `--set`, split at the commas
 * outside brackets and quotes, so `--grid task.train_digits=[1,4],[1,8]` has two values.
 */

export interface GridAxis {
  /** The config field, dotted: `model.pos`. */
  field: string;
  /** What the cell ids call it: the field's last part, or the whole field where two axes share one. */
  label: string;
  /** The values as written (for ids and the table) and as YAML reads them. */
  texts: string[];
  values: unknown[];
}

/** One cell of the grid: a value per axis. */
export interface GridCell {
  id: string;
  /** `field=value` for each axis, in axis order: the cell's `--set` overrides. */
  overrides: string[];
  /** Value text by field. */
  values: Record<string, string>;
}

/** Splits at commas at bracket depth 0 and outside quotes. */
function splitValues(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim());
}

/**
 * Parses the `--grid` arguments. `fields` are the config's fields (dotted, every default filled in): an axis
 * must name one of them.
 */
export function parseGrid(args: readonly string[], fields: readonly string[]): GridAxis[] {
  const axes: GridAxis[] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UserError(`expected field=value1,value2,..., got "${arg}"`, { field: '--grid' });
    const field = arg.slice(0, eq).trim();
    if (!fields.includes(field)) {
      const section = field.split('.')[0];
      const siblings = fields.filter((f) => f.startsWith(`${section}.`)).map((f) => f.slice(section.length + 1));
      throw new UserError(
        `"${field}" is not a field of the config schema${siblings.length ? ` (${section} has ${siblings.join(', ')})` : ''}`,
        { field: '--grid' },
      );
    }
    if (field === 'seed' || field === 'name') {
      throw new UserError(`"${field}" is set by the sweep (--seeds, --name), not by a grid`, { field: '--grid' });
    }
    if (axes.some((axis) => axis.field === field))
      throw new UserError(`"${field}" has two grids; give its values in one`, { field: '--grid' });
    const texts = splitValues(arg.slice(eq + 1));
    if (texts.some((text) => text === '')) throw new UserError(`an empty value in "${arg}"`, { field: '--grid' });
    if (new Set(texts).size < texts.length) throw new UserError(`a value repeats in "${arg}"`, { field: '--grid' });
    const values = texts.map((text) => {
      try {
        return YAML.parse(text) as unknown;
      } catch (error) {
        throw new UserError(`"${text}" is not a YAML value (${(error as Error).message.split('\n')[0]})`, { field: '--grid' });
      }
    });
    axes.push({ field, label: field, texts, values });
  }
  for (const axis of axes) {
    const last = axis.field.split('.').pop()!;
    if (axes.filter((other) => other.field.split('.').pop() === last).length === 1) axis.label = last;
  }
  return axes;
}

/** A value as a file-name-safe part of an id: `[1,4]` -> `1_4`. */
function idPart(text: string): string {
  return text.replace(/[[\]{}"' ]/g, '').replace(/[^A-Za-z0-9.-]/g, '_');
}

/** Every combination of the axes' values, the last axis varying fastest; one cell `base` without axes. */
export function gridCells(axes: readonly GridAxis[]): GridCell[] {
  let cells: GridCell[] = [{ id: '', overrides: [], values: {} }];
  for (const axis of axes) {
    cells = cells.flatMap((cell) =>
      axis.texts.map((text) => ({
        id: `${cell.id}${cell.id ? '_' : ''}${axis.label}-${idPart(text)}`,
        overrides: [...cell.overrides, `${axis.field}=${text}`],
        values: { ...cell.values, [axis.field]: text },
      })),
    );
  }
  if (axes.length === 0) return [{ id: 'base', overrides: [], values: {} }];
  const ids = new Set<string>();
  for (const cell of cells) {
    if (ids.has(cell.id)) throw new UserError(`two values of a grid give the same cell name "${cell.id}"`, { field: '--grid' });
    ids.add(cell.id);
  }
  return cells;
}
