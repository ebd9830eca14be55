import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.ts';

/**
 * Config fields a resume may change: the engine and where it keeps tensors (`train --resume --backend`). Every
 * other field decides what the run computes, so a resumed run must have the one it started with.
 */
const RESUMABLE_FIELDS = new Set(['backend', 'device']);

/** JSON with keys in sorted order at every level, so equal configs give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** SHA-256 of the resolved config without `backend` and `device`: run.json's `config_sha256`. */
export function configHash(config: Config): string {
  const kept = Object.fromEntries(Object.entries(config).filter(([key]) => !RESUMABLE_FIELDS.has(key)));
  return createHash('sha256').update(canonicalJson(kept)).digest('hex');
}
