import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { UserError } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';
import { checkConfig } from './check.ts';

function describeIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  const where = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    return {
      field: [...where, keys[0]].join('.'),
      message: `unknown key${keys.length > 1 ? 's ' + keys.map((k) => `"${k}"`).join(', ') : ''} (not part of the config schema)`,
    };
  }
  if (issue.code === 'invalid_value') {
    return { field: where.join('.'), message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  return { field: where.join('.') || '(top level)', message: issue.message.replace(/^Invalid input: /, '') };
}

/** Validates a plain object as a config; the first problem becomes one UserError naming file and field. */
export function parseConfig(raw: unknown, file: string): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError('expected a YAML mapping with sections task, format, model, train', { file });
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const { field, message } = describeIssue(result.error.issues[0]);
    throw new UserError(message, { file, field });
  }
  const config = result.data;
  checkConfig(config, file);
  return config;
}

/** Applies `--set a.b=value` overrides; values are read as YAML, so `3`, `true`, `[1, 4]` keep their types. */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly string[]): void {
  for (const override of overrides) {
    const eq = override.indexOf('=');
    if (eq <= 0) throw new UserError(`expected --set key.path=value, got "${override}"`, { field: '--set' });
    const keys = override.slice(0, eq).trim().split('.');
    const value = YAML.parse(override.slice(eq + 1));
    let node = raw;
    for (const key of keys.slice(0, -1)) {
      if (node[key] === undefined) node[key] = {};
      if (typeof node[key] !== 'object' || node[key] === null) {
        throw new UserError(`cannot set "${override.slice(0, eq)}": "${key}" is not a section`, { field: '--set' });
      }
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UserError(code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code})`, { file });
  }
  if (text.trim() === '') throw new UserError('config file is empty', { file });
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true });
  } catch (error) {
    throw new UserError(`invalid YAML: ${(error as Error).message.split('\n')[0]}`, { file });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError('expected a YAML mapping with sections task, format, model, train', { file });
  }
  return raw as Record<string, unknown>;
}

/** Reads, overrides and validates a config file. `name` defaults to the file's base name. */
export function loadConfig(file: string, overrides: readonly string[] = []): Config {
  const raw = readConfigFile(file);
  applyOverrides(raw, overrides);
  if (raw.name === undefined) raw.name = path.basename(file).replace(/\.ya?ml$/i, '');
  return parseConfig(raw, file);
}
