import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBenchModels } from '../bench/models.ts';
import { PytorchPartner } from '../bench/lockstep.ts';
import { batchesJson, pytorchArguments, pytorchSkipReason } from '../bench/pytorchModel.ts';
import { selectBackend } from '../src/backends/select.ts';
import { prepareExperiment } from '../src/config/experiment.ts';
import { loadConfig } from '../src/config/load.ts';
import { buildTestSets, heldOutKeys, TrainStream } from '../src/data/dataset.ts';
import { UserError } from '../src/errors.ts';
import { trainingBatch } from '../src/experiments/train.ts';
import { Gpt } from '../src/models/gpt.ts';
import { hasPythonTorch, PYTHON } from './fixtures/pythonTorch.ts';

describe("the bench's models", () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('`configs` is every addition-*.yaml and multiplication-reversed.yaml of the folder, nothing else', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-bench-configs-'));
    for (const name of ['addition-b.yaml', 'addition-a.yaml', 'multiplication-reversed.yaml', 'multiplication-plain.yaml', 'other.yaml'])
      fs.copyFileSync('configs/addition-nope.yaml', path.join(folder, name));
    const names = resolveBenchModels('small,configs,config:addition-a', folder).map((m) => m.name);
    expect(names).toEqual(['small', 'config:addition-a', 'config:addition-b', 'config:multiplication-reversed']);
    // The shipped folder: the configs issue-sized runs train.
    const shipped = resolveBenchModels('configs').map((m) => m.name);
    expect(shipped).toContain('config:addition-nope');
    expect(shipped).toContain('config:multiplication-reversed');
  });

  it('an unknown name or a missing config file fails before anything is timed', () => {
    expect(() => resolveBenchModels('small,medium')).toThrow(UserError);
    expect(() => resolveBenchModels('small,medium')).toThrow(/unknown model "medium"/);
    expect(() => resolveBenchModels('config:addition-none')).toThrow(/no config file configs\/addition-none.yaml/);
  });

  it("a config trains its own model on the batches its training run draws, with its optimizer's settings", () => {
    const [bench] = resolveBenchModels('config:multiplication-reversed');
    const config = loadConfig('configs/multiplication-reversed.yaml');
    const experiment = prepareExperiment(config);
    expect(bench.config).toEqual(experiment.model);
    expect(bench.lr).toBe(config.train.lr);
    expect(bench.optimizer.weight_decay).toBe(config.train.weight_decay);
    const model = new Gpt(bench.config, bench.seed);
    const batches = bench.drawBatches(model, 3);
    // Training's step 1, 2, 3 from the run's stream, held-out problems excluded.
    const stream = new TrainStream(experiment.task, config.seed, heldOutKeys(buildTestSets(experiment.task, config.seed)));
    for (let step = 1; step <= 3; step++) {
      const expected = trainingBatch(model, experiment, stream.next(config.train.batch, step), step);
      expect(batches[step - 1].batch).toBe(128);
      expect(batches[step - 1].inputs).toEqual(expected.inputs);
      expect(batches[step - 1].lossMask).toEqual(expected.lossMask);
    }
    model.dispose();
  });

  it("PyTorch's bench is skipped, with the reason, for what it cannot build", () => {
    const [nope, t5, coupled] = resolveBenchModels('config:addition-nope,config:addition-t5,config:addition-coupled');
    const batchesOf = (bench: typeof nope) => {
      const model = new Gpt(bench.config, bench.seed);
      const batches = bench.drawBatches(model, 1);
      model.dispose();
      return batches;
    };
    for (const bench of [nope, t5, coupled]) expect(pytorchSkipReason(bench, batchesOf(bench))).toBeNull();
    const looped = { ...nope, config: { ...nope.config, recurrence: 2 } };
    expect(pytorchSkipReason(looped, batchesOf(nope))).toMatch(/no looped layers/);
    const dropout = { ...nope, config: { ...nope.config, dropout: 0.1 } };
    expect(pytorchSkipReason(dropout, batchesOf(nope))).toMatch(/no dropout/);
  });

  it("hands PyTorch's bench the batches' position ids and the encodings' options", () => {
    const [coupledRelative] = resolveBenchModels('config:addition-coupled-relative');
    const model = new Gpt(coupledRelative.config, coupledRelative.seed);
    const [batch] = coupledRelative.drawBatches(model, 1);
    model.dispose();
    const [written] = JSON.parse(batchesJson([batch]));
    expect(written.positions).toEqual(Array.from(batch.positions!));
    const args = pytorchArguments(coupledRelative, 'batches.json').join(' ');
    expect(args).toContain('--pos coupled+t5');
    expect(args).toContain('--attention-ids roles --no-role-table');
    expect(args).toContain('--t5-bidirectional');
    expect(args).toMatch(/--t5-scale 100\b/);
  });
});

describe.skipIf(!hasPythonTorch)('bench/pytorch_bench.py builds the same model', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'arith-bench-pytorch-'));

  // ape has a position table of its own; rope rotates a quarter of each head here; untied adds an output matrix;
  // t5 and fire add their bias parameters, abacus and coupled a table of their ids (none in coupled-relative,
  // whose T5 bias reads the coupled ids), fire-randomized trains on randomized positions.
  it.each([
    ['config:addition-ape', {}],
    ['config:addition-rope', { ropeFraction: 0.25 }],
    ['config:addition-alibi', { tieEmbeddings: false }],
    ['config:addition-t5', {}],
    ['config:addition-fire-randomized', {}],
    ['config:addition-abacus', { pos: ['abacus', 'fire'] }],
    ['config:addition-coupled', {}],
    ['config:addition-coupled-relative', {}],
  ])('%s %o: as many parameters as ours, trained on the given batches', (name, change) => {
    const [given] = resolveBenchModels(name);
    const bench = { ...given, config: { ...given.config, ...change } };
    const model = new Gpt(bench.config, bench.seed);
    const batches = bench.drawBatches(model, 2);
    const file = path.join(folder, `${name.replace(':', '_')}.json`);
    fs.writeFileSync(file, batchesJson(batches));
    const output = execFileSync(
      PYTHON,
      ['bench/pytorch_bench.py', ...pytorchArguments(bench, file), '--steps', '1', '--warmup', '1', '--threads', '1'],
      {
        encoding: 'utf8',
      },
    );
    const result = JSON.parse(output.trim().split('\n').pop()!);
    expect(result.parameters).toBe(model.parameterCount);
    // Random weights predict about uniformly: the first loss is near ln(vocabulary) on the masked answer tokens.
    expect(result.losses[0]).toBeGreaterThan(0.8 * Math.log(bench.config.vocabSize));
    expect(result.losses[0]).toBeLessThan(1.2 * Math.log(bench.config.vocabSize));
    model.dispose();
  });
});

describe.skipIf(!hasPythonTorch)('bench/pytorch_bench.py --lockstep (bench --lockstep)', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('trains one step per batch line, the same steps as from a batches file, and exits when its input closes', async () => {
    const [bench] = resolveBenchModels('config:addition-fire');
    const model = new Gpt(bench.config, bench.seed);
    const batches = bench.drawBatches(model, 3);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'arith-bench-lockstep-')), 'batches.json');
    fs.writeFileSync(file, batchesJson(batches));
    const fromFile = JSON.parse(
      execFileSync(
        PYTHON,
        ['bench/pytorch_bench.py', ...pytorchArguments(bench, file), '--steps', '2', '--warmup', '1', '--threads', '1'],
        {
          encoding: 'utf8',
        },
      )
        .trim()
        .split('\n')
        .pop()!,
    ) as { losses: number[] };

    const partner = await PytorchPartner.start(PYTHON, [...pytorchArguments(bench, null), '--threads', '1'], process.env);
    expect(partner.facts.parameters).toBe(model.parameterCount);
    const steps = [];
    for (const batch of batches) steps.push(await partner.step(batch));
    expect(steps.map((s) => s.loss)).toEqual(fromFile.losses);
    for (const s of steps) expect(s.cpuMs).toBeGreaterThan(0);
    await partner.close();
    model.dispose();
  });

  it('a PyTorch that cannot start fails with the end of its stderr', async () => {
    const [bench] = resolveBenchModels('config:addition-nope');
    const args = pytorchArguments(bench, null).map((a) => (a === 'nope' ? 'no-such-encoding' : a));
    await expect(PytorchPartner.start(PYTHON, args, process.env)).rejects.toThrow(/--lockstep stopped: .*no-such-encoding/);
  });
});
