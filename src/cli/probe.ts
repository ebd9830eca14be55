import type { CommandModule } from 'yargs';
import type { BackendName, DeviceName } from '../backends/select.ts';
import { loadRun } from '../experiments/checkpoint.ts';
import { getProbe, PROBE_NAMES, PROBES } from '../probes/index.ts';
import { modelCapture, modelPredictor, probeContext, runProbes, DEFAULT_SAMPLES } from '../probes/run.ts';
import { writeProbeRun } from '../runs/probeFiles.ts';
import { recurrenceArgument, wholeNumber, withBackendOption, withRecurrenceOption } from './options.ts';
import { resolveRunDir } from './runArg.ts';
import { UserError } from '../errors.ts';

interface ProbeArgs {
  run: string;
  probe?: string[];
  checkpoint?: number;
  samples: number;
  'max-digits'?: number;
  lengths?: string[];
  seed?: number;
  backend?: string;
  device?: string;
  recurrence?: number;
}

export const probeCommand: CommandModule<object, ProbeArgs> = {
  command: 'probe <run>',
  describe: 'measure what a trained run learned; writes <run>/probes/<name>.json and prints tables',
  builder: (args) =>
    withRecurrenceOption(withBackendOption(args))
      .positional('run', { type: 'string', demandOption: true, describe: 'run directory (or its name under runs/)' })
      .option('probe', { type: 'string', array: true, choices: PROBE_NAMES, describe: 'probes to run (repeatable); default all' })
      .option('checkpoint', { type: 'number', describe: 'checkpoint step to load; default the newest' })
      .option('samples', { type: 'number', default: DEFAULT_SAMPLES, describe: 'problems per grid cell / bucket' })
      .option('max-digits', {
        type: 'number',
        describe: 'longest operand probed; default 2x the longest training length (capped to what fits)',
      })
      .option('lengths', {
        type: 'string',
        array: true,
        describe: 'only these operand lengths, both operands equal (e.g. 10,20,40,100): far lengths without the whole grid',
      })
      .option('seed', { type: 'number', describe: "seed of the probes' problem draws; default the run's seed" })
      .example('$0 probe runs/addition-nope-20261126-101500', 'every probe on the newest checkpoint')
      .example('$0 probe addition-ape-20261126-101500 --probe length --max-digits 12', 'one probe, a longer grid')
      .example('$0 probe addition-coupled-20261126-101500 --probe length --lengths 10,20,40,100', 'the diagonal at far lengths')
      .example('$0 probe addition-fire-20261126-101500 --recurrence 4', 'a looped model with more passes than it trained with') as never,
  handler: async (args) => {
    wholeNumber(args.samples, '--samples', 1);
    wholeNumber(args['max-digits'], '--max-digits', 1, 200);
    const lengths = lengthList(args.lengths);
    if (lengths && args['max-digits'] !== undefined)
      throw new UserError('give --lengths or --max-digits, not both', { field: '--lengths' });
    wholeNumber(args.checkpoint, '--checkpoint', 0);
    // The seed names the probes' problem draws in their JSON: it must be one the config's `seed` could be.
    wholeNumber(args.seed, '--seed', 0);
    const recurrence = recurrenceArgument(args.recurrence);
    const runDir = resolveRunDir(args.run);
    const log = (line: string) => process.stderr.write(line + '\n');
    const loaded = await loadRun(runDir, {
      step: args.checkpoint,
      backend: args.backend as BackendName | undefined,
      device: args.device as DeviceName | undefined,
      recurrence,
      log,
    });
    try {
      const probes = args.probe?.length ? [...new Set(args.probe)].map(getProbe) : Object.values(PROBES);
      const context = probeContext(loaded.experiment, {
        samples: args.samples,
        maxDigits: args['max-digits'],
        seed: args.seed,
        ...(lengths && { lengths }),
      });
      log(
        `run ${runDir}, checkpoint step ${loaded.step}, backend ${loaded.backend}${recurrence ? `, ${recurrence} passes` : ''}; operands up to ${context.maxDigits} digits, ${context.samples} samples`,
      );
      if (context.maxDigitsLimit) log(`capped at ${context.maxDigits} digits: ${context.maxDigitsLimit}`);
      const target = { predictor: modelPredictor(loaded.model, loaded.experiment), capture: modelCapture(loaded.model) };
      await runProbes(probes, target, context, (run) => {
        // Another number of passes is another measurement: probes/<name>-recurrence-<R>.json, beside the run's own.
        const written =
          recurrence === undefined ? run : { ...run, name: `${run.name}-recurrence-${recurrence}`, result: { ...run.result, recurrence } };
        const file = writeProbeRun(runDir, written, { step: loaded.step, checkpoint: args.checkpoint !== undefined });
        console.log(`\n${getProbe(run.name).table(run.result)}`);
        console.log(`(${run.name}: ${run.seconds.toFixed(1)} s, ${run.decoded} problems decoded; wrote ${file})`);
      });
    } finally {
      loaded.model.dispose();
    }
  },
};

/** `--lengths 10,20,40` (or repeated, or space-separated): whole numbers from 1 to 1,000; undefined when not given. */
export function lengthList(words: readonly string[] | undefined): number[] | undefined {
  if (!words?.length) return undefined;
  const lengths = words.flatMap((word) => String(word).split(',')).filter((part) => part.trim() !== '');
  if (lengths.length === 0) throw new UserError('expected operand lengths such as 10,20,40', { field: '--lengths' });
  return lengths.map((part) => {
    const n = /^\s*\d+\s*$/.test(part) ? Number(part) : Number.NaN;
    wholeNumber(n, '--lengths', 1, 1000);
    return n;
  });
}
