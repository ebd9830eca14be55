import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';

// The README's config block lists every field of the schema with its default (or an example value where there
// is none) and, for a field with a fixed set of values, names every value in its comment. It fails on drift.

type AnySchema = z.ZodType & { def: { type: string; [key: string]: unknown } };

interface Field {
  path: string;
  /** The default, when the field has one. */
  fallback?: { value: unknown };
  /** Allowed values of an enum field. */
  options?: string[];
}

function fields(schema: AnySchema, path = '', fallback?: { value: unknown }, out: Field[] = []): Field[] {
  const def = schema.def;
  switch (def.type) {
    case 'default':
    case 'prefault':
      return fields(def.innerType as AnySchema, path, { value: def.defaultValue }, out);
    case 'optional':
    case 'nullable':
      return fields(def.innerType as AnySchema, path, fallback, out);
    case 'pipe':
      return fields(def.in as AnySchema, path, fallback, out);
    case 'object':
      for (const [key, child] of Object.entries(def.shape as Record<string, AnySchema>))
        fields(child, path ? `${path}.${key}` : key, undefined, out);
      return out;
    case 'enum':
      out.push({ path, fallback, options: Object.values(def.entries as Record<string, string>) });
      return out;
    default:
      out.push({ path, fallback });
      return out;
  }
}

function readmeBlock(): string {
  const readme = fs.readFileSync('README.md', 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]);
  const block = blocks.find((text) => /^train:/m.test(text) && /^model:/m.test(text));
  if (!block) throw new Error("README.md has no ```yaml block with the config's sections");
  return block;
}

/** Leaf paths of the block, each with its comment (and the comment-only lines under it). */
function commentsByPath(block: string): Map<string, string> {
  const comments = new Map<string, string>();
  let section = '';
  let subsection = '';
  let last = '';
  for (const line of block.split('\n')) {
    const field = /^( *)([a-z0-9_]+):([^#]*)(?:#(.*))?$/.exec(line);
    if (field) {
      const [, indent, key, value, comment = ''] = field;
      if (indent.length === 0 && value.trim() === '') {
        section = key;
        last = '';
        continue;
      }
      // A nested section (train.aux_loss) is a two-space key with no value; its fields sit four spaces in.
      if (indent.length === 2 && value.trim() === '') {
        subsection = key;
        last = '';
        continue;
      }
      last = indent.length === 0 ? key : indent.length === 4 ? `${section}.${subsection}.${key}` : `${section}.${key}`;
      comments.set(last, comment);
    } else if (/^\s+#/.test(line) && last) {
      comments.set(last, `${comments.get(last)} ${line.trim().slice(1)}`);
    }
  }
  return comments;
}

function valueAt(object: unknown, path: string): { present: boolean; value?: unknown } {
  let current: unknown = object;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return { present: false };
    current = (current as Record<string, unknown>)[key];
  }
  return { present: true, value: current };
}

describe("README's config block", () => {
  const block = readmeBlock();
  const parsed = YAML.parse(block) as unknown;
  const schemaFields = fields(configSchema as unknown as AnySchema);
  const comments = commentsByPath(block);

  it('is a valid config', () => {
    expect(() => configSchema.parse(parsed)).not.toThrow();
  });

  it('lists every field of the schema, and no other', () => {
    const expected = schemaFields.map((f) => f.path).sort();
    expect([...comments.keys()].sort()).toEqual(expected);
  });

  it("shows each field's default", () => {
    for (const field of schemaFields.filter((f) => f.fallback)) {
      expect(valueAt(parsed, field.path), field.path).toEqual({ present: true, value: field.fallback!.value });
    }
  });

  it('names every allowed value of an enum field in its comment', () => {
    for (const field of schemaFields.filter((f) => f.options)) {
      const words = new Set((comments.get(field.path) ?? '').split(/[^A-Za-z0-9_-]+/));
      const value = valueAt(parsed, field.path).value;
      for (const option of field.options!) {
        expect(words.has(option) || value === option, `${field.path}: the comment does not name "${option}"`).toBe(true);
      }
    }
  });
});
