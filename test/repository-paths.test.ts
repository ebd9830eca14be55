import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// A user's clone has only the repository: no code comment, doc, config, test or generated text may send them
// to a file outside it (developer notes kept beside the checkout, or a file that does not exist).

const THIS_FILE = 'test/repository-paths.test.ts';
const OUTSIDE = [/\.\.\/shared\b/, /\bSPEC\b/, /\bDEVELOPERS\.md\b/];
const TEXT = /\.(ts|mts|cts|js|mjs|cjs|json|md|yaml|yml|py|sh|cc|h|gyp|txt)$|^[^.]+$/;

/** Tracked files (git), or every file but dependencies and build outputs where there is no git. */
function repositoryFiles(): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  } catch {
    const skip = new Set(['node_modules', '.git', 'runs', 'build', 'dist', '.gpu']);
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (skip.has(entry.name)) continue;
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else files.push(file);
      }
    };
    walk('.');
    return files.map((file) => path.relative('.', file));
  }
}

describe('references to paths outside the repository', () => {
  it('none in any tracked file', () => {
    const found: string[] = [];
    for (const file of repositoryFiles()) {
      if (file === THIS_FILE || file === 'package-lock.json' || !TEXT.test(path.basename(file)) || !fs.existsSync(file)) continue;
      fs.readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (OUTSIDE.some((pattern) => pattern.test(line))) found.push(`${file}:${i + 1}: ${line.trim().slice(0, 120)}`);
        });
    }
    expect(found, `cite the paper or its code instead:\n${found.join('\n')}`).toEqual([]);
  });
});
