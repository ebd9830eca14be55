import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainTinyRun } from './fixtures/tinyRun.ts';

// Every command must write all its output before it exits, also into a pipe whose reader starts late. The CLI
// used to call process.exit() with stdout writes still queued: a slow reader got a third of the lines, and exit 0.

const CLI = path.resolve('bin/arith-lab.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-cli-output-'));

/** Runs the CLI with stdout going to a file (written synchronously by Node): the complete output. */
function outputToFile(args: string[], input?: string): { status: number | null; text: string } {
  const file = path.join(dir, `out-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const fd = fs.openSync(file, 'w');
  try {
    const result = spawnSync(process.execPath, [CLI, ...args], { stdio: ['pipe', fd, 'pipe'], input, encoding: 'utf8' });
    expect(result.stderr).not.toMatch(/^\s+at /m);
    return { status: result.status, text: fs.readFileSync(file, 'utf8') };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Runs the CLI into a pipe whose reader starts only once the CLI has exited or after `waitSeconds`, the shell
 * pipeline the bug was found with (`arith-lab data ... | (sleep 2; wc -l)`). A real pipe holds 64 KiB; Node's own
 * child-process "pipes" are socket pairs with far larger buffers, which would hide the bug.
 */
function outputToSlowReader(args: string[], input?: string, waitSeconds = 4): { status: number | null; text: string } {
  const status = path.join(dir, `status-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const script =
    `{ ${command} 2>/dev/null; echo $? > ${quote(status)}; } | ` +
    `( for _ in $(seq ${waitSeconds * 10}); do [ -s ${quote(status)} ] && break; sleep 0.1; done; cat )`;
  const result = spawnSync('bash', ['-c', script], { input: input ?? '', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(result.status, result.stderr).toBe(0);
  return { status: Number(fs.readFileSync(status, 'utf8')), text: result.stdout };
}

describe('output into a slow reader', () => {
  it('data: every line arrives, as into a file', () => {
    const args = ['data', '--config', 'configs/addition-nope.yaml', '--split', 'test', '--show', '5000'];
    const complete = outputToFile(args);
    expect(complete.status).toBe(0);
    expect(complete.text.split('\n').length).toBeGreaterThan(5000);
    const slow = outputToSlowReader(args);
    expect(slow.status).toBe(0);
    expect(slow.text.split('\n').length).toBe(complete.text.split('\n').length);
    expect(slow.text).toBe(complete.text);
  });

  describe('predict --json', () => {
    const runDir = path.join(dir, 'run');
    beforeAll(() => {
      // An untrained model is enough: what is tested is that every answer line arrives.
      const trained = trainTinyRun(dir, runDir, 2);
      expect(trained.status, trained.stderr).toBe(0);
    });

    it('every answer line arrives, and the exit status is kept', () => {
      // 1,500 questions and one bad line: ~300 kB of JSON, then exit code 2 for the bad line.
      const questions = Array.from({ length: 1500 }, (_, i) => `${i % 97}+${(i * 7) % 89}`);
      const input = [...questions, 'nonsense'].join('\n') + '\n';
      const args = ['predict', runDir, '--json', '--backend', 'wasm'];
      const complete = outputToFile(args, input);
      expect(complete.status).toBe(2);
      expect(complete.text.trim().split('\n')).toHaveLength(1501);
      const slow = outputToSlowReader(args, input);
      expect(slow.status).toBe(2);
      expect(slow.text.trim().split('\n')).toHaveLength(1501);
      expect(slow.text).toBe(complete.text);
    });
  });
});
