// The layer rules `npm run lint` enforces must really bite: a copy of src/ with one wrong-way import fails
// dependency-cruiser naming the rule, and the unmodified copy passes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
let copy: string;

function cruise(dir: string) {
  const result = spawnSync(process.execPath, [depcruise, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** Appends an import to a file of the copy and returns a function that undoes it. */
function addImport(file: string, line: string): () => void {
  const target = path.join(copy, file);
  const original = fs.readFileSync(target, 'utf8');
  fs.writeFileSync(target, `${line}\n${original}`);
  return () => fs.writeFileSync(target, original);
}

beforeAll(() => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-lint-'));
  fs.cpSync(path.join(root, 'src'), path.join(copy, 'src'), { recursive: true });
  fs.copyFileSync(path.join(root, '.dependency-cruiser.cjs'), path.join(copy, '.dependency-cruiser.cjs'));
  fs.copyFileSync(path.join(root, 'package.json'), path.join(copy, 'package.json'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
});
afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

describe('layer rules (dependency-cruiser)', () => {
  it('the source tree as it is passes', () => {
    const { status, output } = cruise(copy);
    expect(output).toContain('no dependency violations');
    expect(status).toBe(0);
  });

  it.each([
    ['src/models/gpt.ts', "import '../experiments/train.ts';", 'models-below-config'],
    ['src/report/page.ts', "import '@tensorflow/tfjs';", 'report-below-experiments'],
    ['src/runs/paths.ts', "import '../probes/run.ts';", 'runs-are-files'],
    ['src/backends/torch/backend.ts', "import type { Gpt } from '../../models/gpt.ts';", 'backends-beside-models'],
    ['src/data/problem.ts', "import '../cli/main.ts';", 'cli-is-top'],
    ['src/probes/run.ts', "import '../experiments/train.ts';", 'no-folder-cycles'],
  ])('%s importing %s fails with %s', (file, line, rule) => {
    const undo = addImport(file, line);
    try {
      const { status, output } = cruise(copy);
      expect(status).not.toBe(0);
      expect(output).toContain(`error ${rule}:`);
    } finally {
      undo();
    }
  });
});
