import fs from 'node:fs';
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { selectBackend, type BackendName, type DeviceName } from '../backends/select.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { openRun, prepareResume, type Checkpoint, type ResumePoint } from '../experiments/checkpoint.ts';
import { prepareFork, writeFork } from '../experiments/fork.ts';
import { train } from '../experiments/train.ts';
import { lengthProbeDuringTraining } from '../probes/duringTraining.ts';
import { buildReport } from '../report/report.ts';
import { RUN_FILE } from '../runs/paths.ts';
import { createRunDir, lockRunDir } from '../runs/runDirectory.ts';
import { describeConfigFields } from '../config/describe.ts';
import { formatDuration } from '../duration.ts';
import { ProgressBar } from './progress.ts';
import { wholeNumber, withBackendOption, withConfigOptions } from './options.ts';
import { stopOnSignals } from './signals.ts';

interface TrainArgs {
  config?: string;
  resume?: string;
  fork?: string;
  at?: number;
  set: string[];
  backend?: string;
  device?: string;
  'run-dir'?: string;
  runs: string;
  overwrite: boolean;
  report: boolean;
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'train a model from a YAML config and write a run directory, continue one with --resume, or branch one with --fork',
  builder: (args) =>
    withBackendOption(withConfigOptions(args, { required: false }))
      .option('resume', {
        type: 'string',
        describe: "continue a run directory from its newest checkpoint, with the run's own config.yaml (no --config)",
      })
      .option('fork', {
        type: 'string',
        describe:
          "start a new run from another run's checkpoint (its weights, optimizer, data stream and step), with its config and any --set",
      })
      .option('at', { type: 'number', describe: "with --fork: the parent's checkpoint step (default its newest)" })
      .option('run-dir', { type: 'string', describe: 'write the run here (must be new or empty) instead of runs/<name>-<time>' })
      .option('runs', { type: 'string', default: 'runs', describe: 'folder that holds new run directories' })
      .option('overwrite', {
        type: 'boolean',
        default: false,
        describe: 'replace the run in --run-dir (only a run of this lab: any other file is an error)',
      })
      .option('report', {
        type: 'boolean',
        default: false,
        describe: 'rewrite <run>/report.html at every evaluation and at the end (reload it to follow the run)',
      })
      .example('$0 train --config configs/addition-nope.yaml', 'train reversed addition without positional encoding')
      .example('$0 train -c configs/addition-rope.yaml --set train.steps=500 --backend cpu', 'override fields')
      .example('$0 train --resume runs/addition-rope-20261126-101500', 'continue an interrupted run exactly')
      .example('$0 train --fork runs/mul-4x4 --at 88000 --set train.lr=0.001', 'branch a run at a checkpoint with another schedule')
      .epilog(`Config fields (YAML sections, or --set section.field=value):\n${describeConfigFields()}`) as never,
  handler: async (args) => {
    const bar = new ProgressBar();
    const log = (line: string) => bar.log(line);
    for (const flag of ['resume', 'fork', 'at', 'run-dir', 'runs'] as const) {
      if (Array.isArray(args[flag])) throw new UserError(`given ${args[flag].length} times; give it once`, { field: `--${flag}` });
    }
    // Everything is validated before anything is written.
    let config: Config;
    let runDir: string;
    let resumeFrom: Checkpoint | null | undefined;
    // The run directory's lock, held until training ends (and released by the process's exit in any case).
    let release = () => {};
    // A new folder that holds nothing yet when training fails is removed again.
    let removeIfEmpty = false;
    // --run-dir, or runs/<name>-<time>; says what --overwrite removed.
    const newRunDir = (runConfig: Config) => {
      const created = createRunDir({
        root: args.runs,
        name: runConfig.name ?? 'run',
        explicit: args['run-dir'],
        overwrite: args.overwrite,
      });
      if (created.removed.length > 0) log(`--overwrite: removed the run that was in ${created.dir}: ${created.removed.join(', ')}`);
      return created;
    };
    if (args.at !== undefined && args.fork === undefined)
      throw new UserError('names a checkpoint of the run given with --fork; add --fork RUN', { field: '--at' });
    wholeNumber(args.at, '--at', 0);
    if (args.fork !== undefined && (args.resume !== undefined || args.config !== undefined)) {
      throw new UserError("starts from the parent run's config.yaml (change fields with --set); drop --resume and --config", {
        field: '--fork',
      });
    }
    if (args.resume !== undefined) {
      if (args.config !== undefined || args.set.length > 0) {
        throw new UserError("continues the run with the run's own config.yaml; drop --config and --set", { field: '--resume' });
      }
      if (args['run-dir'] !== undefined || args.overwrite) {
        throw new UserError('names the run directory itself; drop --run-dir and --overwrite', { field: '--resume' });
      }
      // Checked to be a run before its lock is taken (and written into it); then read with nobody writing it.
      openRun(args.resume);
      release = lockRunDir(args.resume);
      let resume: ResumePoint;
      try {
        resume = prepareResume(args.resume, log);
      } catch (error) {
        release();
        throw error;
      }
      const trainedOn = resume.info.backend;
      if (args.backend && args.backend !== trainedOn) {
        log(`warning: the run trained on ${trainedOn}; on ${args.backend} its numbers will not match an uninterrupted run exactly`);
      }
      config = {
        ...resume.config,
        backend: (args.backend ?? trainedOn ?? resume.config.backend) as BackendName,
        device: (args.device ?? resume.config.device) as DeviceName,
      };
      runDir = args.resume;
      resumeFrom = resume.checkpoint;
    } else if (args.fork !== undefined) {
      const fork = prepareFork(args.fork, args.at, args.set);
      const trainedOn = fork.parent.info.backend;
      config = {
        ...fork.config,
        backend: (args.backend ?? trainedOn ?? fork.config.backend) as BackendName,
        device: (args.device ?? fork.config.device) as DeviceName,
      };
      if (config.backend !== trainedOn) {
        log(`warning: the parent trained on ${trainedOn}; on ${config.backend} the fork does not continue its numbers exactly`);
      }
      await selectBackend(config.backend, log, config.device);
      ({ dir: runDir, release } = newRunDir(config));
      resumeFrom = writeFork(runDir, fork);
      log(
        `forked from ${args.fork} at step ${fork.checkpoint.step} (${formatDuration(fork.checkpoint.state.train_seconds)} of its training, counted in this run's time)`,
      );
    } else {
      if (args.config === undefined) {
        throw new UserError('name a config with --config FILE, a run to continue with --resume DIR, or one to branch with --fork DIR', {
          field: '--config',
        });
      }
      const overrides = [
        ...args.set,
        ...(args.backend ? [`backend=${args.backend}`] : []),
        ...(args.device ? [`device=${args.device}`] : []),
      ];
      config = loadConfig(args.config, overrides);
      // A backend that cannot start (a missing optional package, no GPU adapter) is bad input too: find out now.
      await selectBackend(config.backend, log, config.device);
      const created = newRunDir(config);
      ({ dir: runDir, release } = created);
      removeIfEmpty = created.created;
    }
    log(`run: ${runDir}`);

    // First Ctrl-C (or SIGTERM): finish the step, write a checkpoint, exit 130 (143). A second one quits at once;
    // checkpoints are renamed into place whole, so that never leaves a broken one.
    const stop = stopOnSignals((signal) => `${signal}: finishing the current step and writing a checkpoint (again to quit at once)`, log);
    let accuracy: number | null = null;
    // --report: a failed page must never stop training, so it only warns.
    let reportFile: string | null = null;
    const writeReport = () => {
      try {
        reportFile = buildReport([runDir]).file;
      } catch (error) {
        log(`warning: could not write the report: ${(error as Error).message}`);
      }
    };
    const result = await train(config, runDir, {
      resumeFrom,
      signal: stop.signal,
      log,
      onProbe: lengthProbeDuringTraining(runDir),
      onEval: (record) => {
        accuracy = record.accuracy_in_range ?? null;
        const cells = Object.entries(record.accuracy ?? {}).map(([n, a]) => `${n}:${(100 * a).toFixed(0)}`);
        log(`step ${record.step}: loss ${record.loss.toFixed(4)}, accuracy by digits ${cells.join(' ')}`);
        // The record reaches metrics.jsonl just after onEval returns, and the loop yields to the event loop after
        // every step: on the next turn the page includes this evaluation.
        if (args.report) setImmediate(writeReport);
      },
      onStep: (step, loss, tokensPerSecond) => bar.update({ step, total: config.train.steps, loss, accuracy, tokensPerSecond }),
    })
      .catch((error: unknown) => {
        if (removeIfEmpty && !fs.existsSync(path.join(runDir, RUN_FILE))) {
          release();
          fs.rmSync(runDir, { recursive: true, force: true });
        }
        throw error;
      })
      .finally(() => {
        // run.json holds the final status (finished, failed, interrupted) by now.
        if (args.report && fs.existsSync(runDir)) writeReport();
        bar.finish();
        stop.release();
        release();
      });
    const { final } = result;
    const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
    console.log(`\nheld-out exact match after ${final.step} steps (${formatDuration(result.trainSeconds)} of training):`);
    console.log('digits  accuracy  ');
    for (const [n, a] of Object.entries(final.accuracy ?? {})) {
      const inRange = Number(n) >= config.task.train_digits[0] && Number(n) <= config.task.train_digits[1];
      console.log(`${n.padStart(6)}  ${pct(a).padStart(8)}  ${inRange ? 'trained' : 'beyond'}`);
    }
    console.log(`in training range: ${pct(final.accuracy_in_range)}, beyond: ${pct(final.accuracy_beyond)}`);
    if (final.online_accuracy) {
      const byLength = Object.entries(final.online_accuracy).map(([n, a]) => `${n}: ${pct(a)}`);
      console.log(`(the weight average, train.ema; the trained weights alone: ${byLength.join(', ')})`);
    }
    console.log(`run directory: ${runDir}`);
    if (reportFile) console.log(`report: ${reportFile}`);
    result.model.dispose();
  },
};
