import type { CommandModule } from 'yargs';
import { loadConfig } from '../config/load.ts';
import { createRunDir } from '../experiments/runDir.ts';
import { train } from '../experiments/train.ts';
import { ProgressBar, formatDuration } from './progress.ts';
import { withBackendOption, withConfigOptions } from './options.ts';

interface TrainArgs {
  config: string;
  set: string[];
  backend?: string;
  'run-dir'?: string;
  runs: string;
  overwrite: boolean;
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'train a model from a YAML config and write a run directory',
  builder: (args) =>
    withBackendOption(withConfigOptions(args))
      .option('run-dir', { type: 'string', describe: 'write the run here (must be new or empty) instead of runs/<name>-<time>' })
      .option('runs', { type: 'string', default: 'runs', describe: 'folder that holds new run directories' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'allow --run-dir to replace an existing run' })
      .example('$0 train --config configs/addition-nope.yaml', 'train reversed addition without positional encoding')
      .example('$0 train -c configs/addition-rope.yaml --set train.steps=500 --backend cpu', 'override fields') as never,
  handler: async (args) => {
    const overrides = args.backend ? [...args.set, `backend=${args.backend}`] : args.set;
    const config = loadConfig(args.config, overrides); // validate everything before anything is written
    const runDir = createRunDir({ root: args.runs, name: config.name ?? 'run', explicit: args['run-dir'], overwrite: args.overwrite });
    const bar = new ProgressBar();
    const log = (line: string) => bar.log(line);
    log(`run: ${runDir}`);
    let accuracy: number | null = null;
    const result = await train(config, runDir, {
      log,
      onEval: (record) => {
        accuracy = record.accuracy_in_range ?? null;
        const cells = Object.entries(record.accuracy ?? {}).map(([n, a]) => `${n}:${(100 * a).toFixed(0)}`);
        log(`step ${record.step}: loss ${record.loss.toFixed(4)}, accuracy by digits ${cells.join(' ')}`);
      },
      onStep: (step, loss, tokensPerSecond) => bar.update({ step, total: config.train.steps, loss, accuracy, tokensPerSecond }),
    });
    bar.finish();
    const { final } = result;
    const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
    console.log(`\nheld-out exact match after ${final.step} steps (${formatDuration(result.trainSeconds)} of training):`);
    console.log('digits  accuracy  ');
    for (const [n, a] of Object.entries(final.accuracy ?? {})) {
      const inRange = Number(n) >= config.task.train_digits[0] && Number(n) <= config.task.train_digits[1];
      console.log(`${n.padStart(6)}  ${pct(a).padStart(8)}  ${inRange ? 'trained' : 'beyond'}`);
    }
    console.log(`in training range: ${pct(final.accuracy_in_range)}, beyond: ${pct(final.accuracy_beyond)}`);
    console.log(`run directory: ${runDir}`);
    result.model.dispose();
  },
};
