import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { dataCommand } from '../src/cli/data.ts';
import { predictCommand, protectMinusProblems } from '../src/cli/predict.ts';
import { probeCommand } from '../src/cli/probe.ts';
import { UserError } from '../src/errors.ts';
import { trainTinyRun } from './fixtures/tinyRun.ts';

// Issue 13's bad inputs at the command line: each ends in `arith-lab: error: ...` (or, for predict, a reason
// per line) with exit 2, no stack trace, and nothing trained or written.

const CLI = path.resolve('bin/arith-lab.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-bad-cli-'));
const runs = path.join(dir, 'runs');

function cli(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function refused(args: string[], message: RegExp, input = ''): string {
  const { status, stderr } = cli(args, input);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).toMatch(message);
  expect(status, stderr).toBe(2);
  return stderr;
}

describe('train and reproduce refuse before anything is written', () => {
  it('--set with a value that is not YAML', () => {
    const stderr = refused(
      ['train', '-c', 'configs/addition-ape.yaml', '--runs', runs, '--set', 'train.steps=[1'],
      /^arith-lab: error: --set train\.steps: the value is not valid YAML: .*$/m,
    );
    expect(stderr.trim().split('\n')).toHaveLength(1);
    refused(
      ['reproduce', 'lee2023-sample-efficiency', '--runs', runs, '--dry-run', '--set', 'train.steps=[1'],
      /arith-lab: error: --set train\.steps: the value is not valid YAML/,
    );
    expect(fs.existsSync(runs)).toBe(false);
  });

  it('a batch that cannot fit in memory names train.batch and the estimate', () => {
    refused(
      ['train', '-c', 'configs/addition-ape.yaml', '--runs', runs, '--set', 'train.batch=10000000'],
      /arith-lab: error: configs\/addition-ape\.yaml: train\.batch: training needs about 3 TB/,
    );
    expect(fs.existsSync(runs)).toBe(false);
  });
});

/**
 * Runs commands in this process through yargs as the CLI does (the same parsing, the same rewriting of
 * `-5+3`), with stdout and stderr captured: the spawned CLI costs seconds per call on a busy machine.
 */
async function inProcess(argv: string[]): Promise<{ error: UserError | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const log = vi.spyOn(console, 'log').mockImplementation((...parts) => void (stdout += `${parts.join(' ')}\n`));
  const exitCode = process.exitCode;
  try {
    await yargs(protectMinusProblems(argv))
      .command(dataCommand)
      .command(probeCommand)
      .command(predictCommand)
      .strict()
      .fail((message, error) => {
        throw error ?? new UserError(message);
      })
      .parseAsync();
    return { error: null, stdout, stderr };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return { error, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    log.mockRestore();
    process.exitCode = exitCode;
  }
}

async function refusedInProcess(argv: string[], message: RegExp): Promise<void> {
  const { error } = await inProcess(argv);
  expect(error?.toString()).toMatch(message);
}

describe('data', () => {
  it('--show -1', async () => {
    await refusedInProcess(
      ['data', '-c', 'configs/addition-ape.yaml', '--show', '-1'],
      /^--show: expected a whole number of at least 0, got -1$/,
    );
  });

  it('--problem of another operation, or with a minus sign', async () => {
    const { error, stdout } = await inProcess(['data', '-c', 'configs/addition-ape.yaml', '--problem', '12*34']);
    expect(error?.toString()).toBe('--problem: this config trains task.op add, not mul');
    expect(stdout).toBe('');
    await refusedInProcess(
      ['data', '-c', 'configs/addition-ape.yaml', '--problem', '-5+3'],
      /^--problem: negative operands are not supported/,
    );
  });
});

describe('predict and probe on a run', () => {
  const runDir = path.join(dir, 'run');
  beforeAll(() => {
    // One step of an untrained-size model: what is tested is what the commands accept.
    const trained = trainTinyRun(dir, runDir, 1);
    expect(trained.status, trained.stderr).toBe(0);
  }, 120_000);

  it('predict -- -5+3 and predict -5+3: the problem is refused with its reason, not dropped', async () => {
    for (const args of [
      ['--', '-5+3'],
      ['-5+3', '1+2'],
    ]) {
      const { error, stdout, stderr } = await inProcess(['predict', runDir, '--backend', 'wasm', ...args]);
      expect(error).toBeNull();
      expect(stderr).toMatch(/line 1: "-5\+3": negative operands are not supported/);
      // Problems given as arguments are answered, one line each, and stdin is not read.
      expect(stdout.trim().split('\n')).toHaveLength(args.filter((a) => a !== '--').length);
    }
  });

  it('predict --checkpoint abc', async () => {
    await refusedInProcess(['predict', runDir, '--checkpoint', 'abc', '1+2'], /^--checkpoint: expected a whole number of at least 0/);
  });

  it.each([['abc'], ['-1'], ['1.5']])('probe --seed %s', async (seed) => {
    await refusedInProcess(['probe', runDir, '--probe', 'length', '--seed', seed], /^--seed: expected a whole number of at least 0/);
    expect(fs.existsSync(path.join(runDir, 'probes'))).toBe(false);
  });

  it('a 10 MB line is quoted by a short prefix; a huge operand is capped by memory', () => {
    const input = `${'a'.repeat(10_000_000)}\n${'9'.repeat(2_000_000)}+1\n`;
    const { status, stderr } = cli(['predict', runDir, '--backend', 'wasm'], input);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr.length).toBeLessThan(1000);
    expect(stderr).toMatch(/line 1: "a{60}"\.\.\. \(10,000,000 characters\): expected a problem/);
    expect(stderr).toMatch(
      /line 2: "9{60}"\.\.\. \(2,000,002 characters\): the problem needs at least 2,000,001 tokens; decoding more than [\d,]+ would take over/,
    );
    expect(status).toBe(2);
  });
});
