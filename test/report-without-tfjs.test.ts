import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The report reads run directories as plain data; loading it must not load tfjs (or the model, probes and
 * backends behind it). Each check imports modules in a fresh Node process and lists the tfjs modules loaded:
 * CommonJS files in require.cache, and tfjs-core's global engine.
 */
function tfjsLoadedBy(files: string[]): { modules: number; engine: boolean } {
  const imports = files.map((file) => `await import(${JSON.stringify(path.resolve(file))});`).join('\n');
  const script = `${imports}
const { createRequire } = await import('node:module');
const modules = Object.keys(createRequire(import.meta.url).cache).filter((key) => key.includes('@tensorflow')).length;
console.log(JSON.stringify({ modules, engine: '_tfengine' in globalThis }));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { modules: number; engine: boolean };
}

describe('the report loads without tfjs', () => {
  it('no module of src/report (nor src/runs, which it reads through) loads tfjs', () => {
    const files = ['src/report', 'src/runs'].flatMap((dir) =>
      fs
        .readdirSync(dir)
        .filter((name) => name.endsWith('.ts'))
        .map((name) => path.join(dir, name)),
    );
    expect(files).toContain(path.join('src', 'report', 'report.ts'));
    expect(tfjsLoadedBy(files)).toEqual({ modules: 0, engine: false });
  });

  it('the check sees tfjs when a module does load it', () => {
    const loaded = tfjsLoadedBy(['src/probes/run.ts']);
    expect(loaded.modules).toBeGreaterThan(0);
    expect(loaded.engine).toBe(true);
  });
});
