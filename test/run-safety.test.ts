import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../src/backends/select.ts';
import { trainCommand } from '../src/cli/train.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { loadConfig } from '../src/config/load.ts';
import { UserError } from '../src/errors.ts';
import {
  expectedParameters,
  latestCheckpoint,
  loadRun,
  prepareResume,
  readCheckpoint,
  writeCheckpoint,
} from '../src/experiments/checkpoint.ts';
import { train } from '../src/experiments/train.ts';
import { listCheckpoints } from '../src/runs/checkpointFiles.ts';
import { acquireLock } from '../src/runs/lock.ts';
import { makeDirectoryFor } from '../src/runs/makeDirectory.ts';
import { readMetrics } from '../src/runs/metricsLog.ts';
import type { MetricsRecord } from '../src/runs/records.ts';
import { createRunDir, lockRunDir, readRunInfo, writeRunInfo } from '../src/runs/runDirectory.ts';
import { testBackend } from './fixtures/backend.ts';

// Issue 13, "Data lost or corrupted" and the run-directory cases: each test is one reported case.

const TINY_CONFIG = `
seed: 3
backend: ${testBackend('cpu')}
task: { op: add, train_digits: [1, 2], test_digits: [1, 3], test_size: 20 }
format: { name: reversed }
model: { layers: 1, heads: 2, d_model: 16, max_len: 16, pos: rope }
train: { steps: 20, batch: 8, lr: 0.003, warmup: 2, eval_every: 10, eval_size: 5, log_every: 1, checkpoint_every: 5, keep_checkpoints: 3 }
`;

const CLI = path.resolve('bin/arith-lab.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-safety-'));
const configFile = path.join(dir, 'tiny.yaml');
fs.writeFileSync(configFile, TINY_CONFIG);
const referenceDir = path.join(dir, 'reference');
const expected = () => expectedParameters(prepareExperiment(loadConfig(configFile)).model);

/** The fields a resumed run must reproduce exactly; tokens_per_s and elapsed_s are wall-clock. */
const exactFields = (records: MetricsRecord[]) => records.map(({ tokens_per_s: _speed, elapsed_s: _elapsed, ...rest }) => rest);

let copies = 0;
/** A copy of the reference run, marked interrupted (so it can be resumed) unless told otherwise. */
function copyOfReference(status: 'interrupted' | 'finished' = 'interrupted'): string {
  const copy = path.join(dir, `copy-${copies++}`);
  fs.cpSync(referenceDir, copy, { recursive: true });
  writeRunInfo(copy, { ...readRunInfo(copy), status });
  return copy;
}

const stepDir = (runDir: string, step: number) => path.join(runDir, 'checkpoints', `step-${String(step).padStart(6, '0')}`);

/** Runs the CLI; resolves with its exit code and stderr. */
function cli(args: string[], timeoutMs = 90_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function userErrorOf(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

/** Temporary files and folders anywhere under `folder`: what a failed write must not leave. */
function leftovers(folder: string): string[] {
  return (fs.readdirSync(folder, { recursive: true }) as string[]).filter((name) => /(\.tmp-\d+|\.partial-)/.test(name));
}

beforeAll(async () => {
  await selectBackend(testBackend('cpu'));
  fs.mkdirSync(referenceDir);
  const result = await train(loadConfig(configFile), referenceDir);
  result.model.dispose();
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('--overwrite', () => {
  const train = async (args: Record<string, unknown>) =>
    trainCommand.handler({ set: [], runs: path.join(dir, 'runs'), overwrite: false, config: configFile, ...args } as never);

  it('refuses a folder that is not a run of this lab and removes nothing', async () => {
    const target = path.join(dir, 'thesis');
    fs.mkdirSync(path.join(target, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(target, 'thesis.txt'), 'keep');
    const error = await train({ 'run-dir': target, overwrite: true }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UserError);
    expect(String(error)).toMatch(/not part of a run of this lab \(sub\/, thesis.txt\)/);
    expect(fs.readdirSync(target).sort()).toEqual(['sub', 'thesis.txt']);
    expect(fs.readFileSync(path.join(target, 'thesis.txt'), 'utf8')).toBe('keep');
  });

  it('refuses a run with a foreign file inside it; replaces a run of this lab and says what it removed', () => {
    const mixed = copyOfReference();
    fs.writeFileSync(path.join(mixed, 'checkpoints', 'notes.txt'), 'mine');
    expect(userErrorOf(() => createRunDir({ root: dir, name: 'x', explicit: mixed, overwrite: true })).message).toMatch(
      /not part of a run of this lab \(checkpoints\/notes.txt\)/,
    );
    expect(fs.readFileSync(path.join(mixed, 'checkpoints', 'notes.txt'), 'utf8')).toBe('mine');
    expect(listCheckpoints(mixed)).toHaveLength(3);

    const run = copyOfReference();
    const created = createRunDir({ root: dir, name: 'x', explicit: run, overwrite: true });
    try {
      expect(created.removed).toEqual(['checkpoints/ (3 checkpoints)', 'config.yaml', 'metrics.jsonl', 'run.json']);
      expect(fs.readdirSync(run)).toEqual(['run.lock']);
    } finally {
      created.release();
    }
    expect(fs.readdirSync(run)).toEqual([]);
  });
});

describe('the run-directory lock', () => {
  it('a second train on a run directory, or a resume of a run still training, exits 2 naming the holder', async () => {
    const fresh = path.join(dir, 'held-new');
    fs.mkdirSync(fresh);
    const training = copyOfReference();
    const releases = [lockRunDir(fresh), lockRunDir(training)];
    const before = fs.readFileSync(path.join(training, 'run.json'), 'utf8');
    try {
      const [second, resume] = await Promise.all([
        cli(['train', '--config', configFile, '--run-dir', fresh]),
        cli(['train', '--resume', training]),
      ]);
      for (const outcome of [second, resume]) {
        expect(outcome.code).toBe(2);
        expect(outcome.stderr).toContain(`arith-lab: error: `);
        expect(outcome.stderr).toContain(`another train (process ${process.pid}) is working here`);
      }
      expect(fs.readdirSync(fresh)).toEqual(['run.lock']);
      expect(fs.readFileSync(path.join(training, 'run.json'), 'utf8')).toBe(before);
    } finally {
      for (const release of releases) release();
    }
    expect(fs.existsSync(path.join(fresh, 'run.lock'))).toBe(false);
  }, 120_000);

  it("takes over the lock of a process that has ended, and a release never removes another process's lock", () => {
    const runDir = path.join(dir, 'stale');
    fs.mkdirSync(runDir);
    const lockFile = path.join(runDir, 'run.lock');
    fs.writeFileSync(lockFile, `${deadPid()} train\n`);
    const created = createRunDir({ root: dir, name: 'x', explicit: runDir });
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(`${process.pid} train\n`);
    fs.writeFileSync(lockFile, `${deadPid()} train\n`); // taken over by someone else meanwhile
    created.release();
    expect(fs.existsSync(lockFile)).toBe(true);
  });

  it('of several processes taking one lock at the same moment, exactly one gets it', () => {
    const lockFile = path.join(dir, 'race.lock');
    const start = Date.now() + 3000;
    const script = `
      const { acquireLock } = await import(${JSON.stringify(path.resolve('src/runs/lock.ts'))});
      while (Date.now() < ${start}) {}
      let outcome = 'held';
      try { acquireLock(${JSON.stringify(lockFile)}, 'race'); } catch { outcome = 'refused'; }
      console.log(outcome);
      await new Promise((resolve) => setTimeout(resolve, 1500));`;
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }),
    );
    return Promise.all(
      children.map(
        (child) =>
          new Promise<string>((resolve) => {
            let out = '';
            child.stdout.on('data', (chunk) => (out += chunk));
            child.on('close', () => resolve(out.trim()));
          }),
      ),
    ).then((outcomes) => {
      expect(outcomes.sort()).toEqual(['held', 'refused', 'refused', 'refused']);
      expect(fs.existsSync(lockFile)).toBe(false);
    });
  }, 60_000);

  it('a lock taken twice in one process is refused too', () => {
    const release = acquireLock(path.join(dir, 'twice.lock'), 'reproduce');
    try {
      expect(() => acquireLock(path.join(dir, 'twice.lock'), 'reproduce')).toThrow(UserError);
    } finally {
      release();
    }
  });
});

describe('damaged checkpoints', () => {
  it('flipped bytes in the newest model.safetensors: one warning, the previous checkpoint is used', async () => {
    const runDir = copyOfReference();
    const file = path.join(stepDir(runDir, 20), 'model.safetensors');
    const bytes = fs.readFileSync(file);
    for (let i = bytes.length - 200; i < bytes.length - 184; i++) bytes[i] ^= 0x5a; // 16 payload bytes
    fs.writeFileSync(file, bytes);
    const warnings: string[] = [];
    expect(latestCheckpoint(runDir, expected(), (line) => warnings.push(line))?.step).toBe(15);
    expect(warnings).toEqual([
      'warning: checkpoint step-000020 is unusable: model.safetensors: checksum mismatch (its bytes changed after the checkpoint was written); using step-000015 instead',
    ]);
    const loaded = await loadRun(runDir);
    expect(loaded.step).toBe(15);
    loaded.model.dispose();
  });

  it('an edited state.json (still valid JSON) fails its checksum; old checkpoints without checksums still load', () => {
    const runDir = copyOfReference();
    const stateFile = path.join(stepDir(runDir, 20), 'state.json');
    fs.writeFileSync(stateFile, fs.readFileSync(stateFile, 'utf8').replace('"cursor": 0', '"cursor": 1'));
    expect(() => readCheckpoint(stepDir(runDir, 20))).toThrow(/state.json: checksum mismatch/);

    // As written before checksums existed: no checksums.sha256, no sha256 in state.json, no config hash.
    const old = copyOfReference();
    for (const { dir: checkpoint } of listCheckpoints(old)) {
      fs.rmSync(path.join(checkpoint, 'checksums.sha256'), { force: true });
      const state = JSON.parse(fs.readFileSync(path.join(checkpoint, 'state.json'), 'utf8'));
      delete state.sha256;
      fs.writeFileSync(path.join(checkpoint, 'state.json'), JSON.stringify(state));
    }
    const { config_sha256: _hash, ...info } = readRunInfo(old);
    writeRunInfo(old, info);
    expect(prepareResume(old).checkpoint?.step).toBe(20);

    // A new checkpoint whose checksums.sha256 went missing is not taken for an old one.
    const stripped = copyOfReference();
    fs.rmSync(path.join(stepDir(stripped, 20), 'checksums.sha256'));
    expect(() => readCheckpoint(stepDir(stripped, 20))).toThrow(/checksums.sha256: missing/);
  });

  it('a checkpoint holding NaN weights is never used, nor called good', () => {
    const runDir = copyOfReference();
    const newest = readCheckpoint(stepDir(runDir, 20));
    newest.model['wte.weight'].data[3] = Number.NaN;
    const { format: _f, step: _s, files: _files, sha256: _sums, written_at: _w, ...state } = newest.state;
    writeCheckpoint(runDir, { step: 20, model: newest.model, optimizer: newest.optimizer, state }, 10);
    const warnings: string[] = [];
    expect(latestCheckpoint(runDir, expected(), (line) => warnings.push(line))?.step).toBe(15);
    expect(warnings[0]).toMatch(/step-000020 is unusable: model.safetensors: tensor wte.weight holds NaN or infinite values/);
  });

  it('state.json with "stream": null is a damaged checkpoint, not a crash on resume', () => {
    const runDir = copyOfReference();
    const checkpoint = stepDir(runDir, 20);
    fs.rmSync(path.join(checkpoint, 'checksums.sha256'), { force: true });
    const state = JSON.parse(fs.readFileSync(path.join(checkpoint, 'state.json'), 'utf8'));
    delete state.sha256;
    fs.writeFileSync(path.join(checkpoint, 'state.json'), JSON.stringify({ ...state, stream: null }));
    const warnings: string[] = [];
    expect(prepareResume(runDir, (line) => warnings.push(line)).checkpoint?.step).toBe(15);
    expect(warnings[0]).toMatch(/step-000020 is unusable: state.json: stream: /);
  });
});

describe('resume checks the config', () => {
  it('refuses a config.yaml edited since the run started, naming the fields that differ', () => {
    const runDir = copyOfReference();
    const configYaml = path.join(runDir, 'config.yaml');
    fs.writeFileSync(
      configYaml,
      fs
        .readFileSync(configYaml, 'utf8')
        .replace('lr: 0.003', 'lr: 0.0005')
        .replace(/^seed: 3$/m, 'seed: 4'),
    );
    const error = userErrorOf(() => prepareResume(runDir));
    expect(error.details.file).toBe(configYaml);
    expect(error.message).toMatch(
      /no longer matches the config the run was trained with \(seed was 3, is 4; train.lr was 0.003, is 0.0005\)/,
    );
  });
});

describe('run directories that cannot be made', () => {
  it.skipIf(process.platform !== 'linux')(
    '--run-dir under /proc: one line, exit 2, no hang',
    async () => {
      const outcomes = await Promise.all(
        ['/proc/self/arith', '/proc/sys/kernel/arithrun'].map((runDir) =>
          cli(['train', '--config', configFile, '--run-dir', runDir], 60_000),
        ),
      );
      for (const { code, stderr } of outcomes) {
        expect(code).toBe(2);
        expect(stderr).toMatch(/^arith-lab: error: \/proc\/.*--run-dir: cannot create the run directory/m);
        expect(stderr).not.toMatch(/^\s+at /m);
      }
    },
    120_000,
  );

  it('--runs under /proc, --runs a file, a name too long: a UserError, nothing left behind', () => {
    if (process.platform === 'linux') {
      expect(userErrorOf(() => createRunDir({ root: '/proc', name: 'x' })).details.field).toBe('--runs');
      // reproduce's folders under --runs, made the same way.
      expect(userErrorOf(() => makeDirectoryFor('/proc/reproduce/x/configs', '--runs')).message).toMatch(/cannot create the folder/);
    }
    expect(userErrorOf(() => createRunDir({ root: configFile, name: 'x' })).message).toMatch(/not a directory/);
    const root = path.join(dir, 'long-runs');
    const long = userErrorOf(() => createRunDir({ root, name: 'a'.repeat(300) }));
    expect(long.details.field).toBe('name');
    expect(long.message).toMatch(/longer than the file system allows/);
    expect(fs.existsSync(root)).toBe(false);
  });

  it('--runs given twice is refused', async () => {
    const handler = async () => trainCommand.handler({ set: [], runs: ['runs', 'runs'], overwrite: false, config: configFile } as never);
    const error = await handler().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).details.field).toBe('--runs');
  });
});

describe('a crash after the run started', () => {
  it('leaves run.json failed with the message, not running', async () => {
    const runDir = path.join(dir, 'crash');
    fs.mkdirSync(runDir);
    const config = loadConfig(configFile, ['train.steps=3', 'train.eval_every=2']);
    const onEval = () => {
      throw new RangeError('Invalid typed array length: 4294967296');
    };
    await expect(train(config, runDir, { onEval })).rejects.toThrow(RangeError);
    expect(readRunInfo(runDir)).toMatchObject({ status: 'failed', message: 'Invalid typed array length: 4294967296' });
  });
});

describe('a full disk', () => {
  afterEach(() => vi.restoreAllMocks());

  /** The run failed with a message saying the disk is full, no temporary file stayed, every checkpoint is whole. */
  function expectDiskFullEnding(runDir: string, error: unknown): void {
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/the disk is full \(ENOSPC\).*complete checkpoints are kept/);
    const info = readRunInfo(runDir);
    expect(info.status).toBe('failed');
    expect(info.message).toMatch(/the disk is full/);
    expect(leftovers(runDir)).toEqual([]);
    expect(listCheckpoints(runDir).length).toBeGreaterThan(0);
    for (const { dir: checkpoint } of listCheckpoints(runDir)) expect(() => readCheckpoint(checkpoint, expected())).not.toThrow();
  }

  async function resumeToTheEnd(runDir: string): Promise<void> {
    const resume = prepareResume(runDir);
    const result = await train({ ...resume.config }, runDir, { resumeFrom: resume.checkpoint });
    result.model.dispose();
    expect(readRunInfo(runDir).status).toBe('finished');
    expect(exactFields(readMetrics(path.join(runDir, 'metrics.jsonl')))).toEqual(
      exactFields(readMetrics(path.join(referenceDir, 'metrics.jsonl'))),
    );
  }

  it('(injected at the write layer) ends the run failed, keeps complete checkpoints, and it resumes exactly', async () => {
    const runDir = path.join(dir, 'full-injected');
    fs.mkdirSync(runDir);
    const write = fs.writeFileSync;
    // After the second checkpoint the disk is full: a checkpoint file, a temporary run.json, metrics all fail.
    vi.spyOn(fs, 'writeFileSync').mockImplementation((file, ...rest) => {
      if (listCheckpoints(runDir).length >= 2 && (typeof file === 'number' || /\.tmp-\d+$/.test(String(file)))) {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return write(file, ...(rest as [never]));
    });
    const error = await train(loadConfig(configFile), runDir).catch((thrown: unknown) => thrown);
    vi.restoreAllMocks();
    expectDiskFullEnding(runDir, error);
    expect(listCheckpoints(runDir).map((c) => c.step)).toEqual([10, 5]);
    await resumeToTheEnd(runDir);
  }, 60_000);

  const tmpfs = path.join(dir, 'tmpfs');
  const mounted = (() => {
    if (process.platform !== 'linux') return false;
    fs.mkdirSync(tmpfs);
    return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=160k', 'tmpfs', tmpfs]).status === 0;
  })();
  afterAll(() => {
    if (mounted) spawnSync('umount', [tmpfs]);
  });

  it.skipIf(!mounted)(
    '(a 160 KiB tmpfs) ends the run failed, keeps complete checkpoints, and it resumes once space is freed',
    async () => {
      const runDir = path.join(tmpfs, 'run');
      fs.mkdirSync(runDir);
      const error = await train(loadConfig(configFile), runDir).catch((thrown: unknown) => thrown);
      expectDiskFullEnding(runDir, error);
      expect(spawnSync('mount', ['-o', 'remount,size=4m', tmpfs]).status).toBe(0);
      await resumeToTheEnd(runDir);
    },
    60_000,
  );
});
