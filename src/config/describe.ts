import type { z } from 'zod';
import { configSchema } from './schema.ts';

interface FieldLine {
  path: string;
  kind: string;
  fallback: string;
  description: string;
}

type AnySchema = z.ZodType & { def: { type: string; [key: string]: unknown }; description?: string };

/** Walks the zod schema: the help text is generated from the single source of config truth. */
function collect(schema: AnySchema, path: string, lines: FieldLine[], description = '', fallback = ''): void {
  const def = schema.def;
  const text = schema.description ?? description;
  switch (def.type) {
    case 'default':
    case 'prefault': {
      const value = def.defaultValue;
      const shown = typeof value === 'object' && value !== null && !Array.isArray(value) ? '' : JSON.stringify(value);
      return collect(def.innerType as AnySchema, path, lines, text, shown);
    }
    case 'optional':
    case 'nullable': {
      const inner = def.innerType as AnySchema;
      const before = lines.length;
      collect(inner, path, lines, text, fallback);
      if (def.type === 'nullable' && lines.length === before + 1) lines[before].kind += ' | null';
      return;
    }
    case 'pipe':
      return collect(def.in as AnySchema, path, lines, text, fallback);
    case 'object': {
      for (const [key, child] of Object.entries(def.shape as Record<string, AnySchema>)) {
        collect(child, path ? `${path}.${key}` : key, lines);
      }
      return;
    }
    case 'enum':
      lines.push({ path, kind: Object.values(def.entries as Record<string, string>).join(' | '), fallback, description: text });
      return;
    case 'union':
      // One value or a list of them (model.pos): the first member names the values, the description the rest.
      return collect((def.options as AnySchema[])[0], path, lines, text, fallback);
    case 'tuple':
      lines.push({ path, kind: '[min, max]', fallback, description: text });
      return;
    default:
      lines.push({ path, kind: def.type === 'number' ? 'number' : def.type, fallback, description: text });
  }
}

/** Every config field with its type, default and meaning, one per line, for `arith-lab train --help`. */
export function describeConfigFields(): string {
  const lines: FieldLine[] = [];
  collect(configSchema as unknown as AnySchema, '', lines);
  const width = Math.max(...lines.map((l) => l.path.length));
  return lines
    .map((l) => {
      const head = `  ${l.path.padEnd(width)}  ${l.kind}${l.fallback ? ` (default ${l.fallback})` : ''}`;
      return l.description ? `${head}\n  ${' '.repeat(width)}    ${l.description}` : head;
    })
    .join('\n');
}
