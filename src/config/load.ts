import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { quoteInput, UserError } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';
import { checkConfig } from './check.ts';
import { checkMemory } from './memoryEstimate.ts';

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

// Keys that would reach Object.prototype through `node[key]` instead of naming a config field.
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The YAML parser's first line of complaint, cut short: it may quote kilobytes of the offending input. */
function yamlProblem(error: unknown): string {
  const line = (error as Error).message.split('\n')[0].replace(/:$/, '');
  return line.length > 160 ? `${line.slice(0, 160)}...` : line;
}

/**
 * YAML text to plain data. Warnings (an unknown tag, say) are mistakes too, and the parser would print them raw
 * to stderr: the first error or warning is thrown, as a line fit for a message.
 */
function parseYaml(text: string): unknown {
  let document: YAML.Document;
  try {
    document = YAML.parseDocument(text, { uniqueKeys: true, logLevel: 'silent' });
    const problem = document.errors[0] ?? document.warnings[0];
    if (problem) throw problem;
    return document.toJS();
  } catch (error) {
    throw new Error(yamlProblem(error));
  }
}

/** Applies `--set a.b=value` overrides; values are read as YAML, so `3`, `true`, `[1, 4]` keep their types. */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly string[]): void {
  for (const override of overrides) {
    const eq = override.indexOf('=');
    if (eq <= 0) throw new UserError(`expected --set key.path=value, got ${quoteInput(override)}`, { field: '--set' });
    const dotted = override.slice(0, eq).trim();
    const keys = dotted.split('.');
    const field = `--set ${dotted}`;
    if (keys.some((key) => key === '')) throw new UserError('expected a dotted field name like train.steps', { field });
    const forbidden = keys.findIndex((key) => PROTOTYPE_KEYS.has(key));
    if (forbidden >= 0) {
      throw new UserError(`unknown key "${keys[forbidden]}" (not part of the config schema)`, {
        field: `--set ${keys.slice(0, forbidden + 1).join('.')}`,
      });
    }
    let value: unknown;
    try {
      value = parseYaml(override.slice(eq + 1));
    } catch (error) {
      throw new UserError(`the value is not valid YAML: ${(error as Error).message}`, { field });
    }
    let node = raw;
    for (const key of keys.slice(0, -1)) {
      if (!Object.hasOwn(node, key)) node[key] = {};
      if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) {
        throw new UserError(`cannot set "${dotted}": "${key}" is not a section`, { field: '--set' });
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
    raw = parseYaml(text);
  } catch (error) {
    throw new UserError(`invalid YAML: ${(error as Error).message}`, { file });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError('expected a YAML mapping with sections task, format, model, train', { file });
  }
  return raw as Record<string, unknown>;
}

/**
 * A valid run name from a config file's name, which may hold spaces or other scripts (`配置 ü.yaml`): accents
 * dropped, every other run of characters outside the name's alphabet becomes one "-"; `run` when nothing is left.
 */
export function nameFromFile(file: string): string {
  const base = path.basename(file).replace(/\.ya?ml$/i, '');
  const folded = base.normalize('NFKD').replace(/\p{M}/gu, '');
  const name = folded.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return name === '' ? 'run' : name;
}

/**
 * Reads, overrides and validates a config file, and checks that training it fits this machine's memory.
 * `name` defaults to one derived from the file's name.
 */
export function loadConfig(file: string, overrides: readonly string[] = []): Config {
  const raw = readConfigFile(file);
  applyOverrides(raw, overrides);
  if (raw.name === undefined) raw.name = nameFromFile(file);
  const config = parseConfig(raw, file);
  checkMemory(config, file);
  return config;
}
