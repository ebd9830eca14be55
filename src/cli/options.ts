import type { Argv } from 'yargs';
import { BACKEND_NAMES, DEVICE_NAMES } from '../contracts/backendNames.ts';
import { UserError } from '../errors.ts';

/** --config and --set, shared by every command that reads a config. */
export function withConfigOptions<T>(args: Argv<T>, { required = true } = {}) {
  return args
    .option('config', { alias: 'c', type: 'string', demandOption: required, describe: 'YAML config file (see configs/)' })
    .option('set', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'override a config field, e.g. --set train.steps=200 --set model.pos=rope (repeatable)',
    });
}

export function withBackendOption<T>(args: Argv<T>) {
  return args
    .option('backend', {
      type: 'string',
      choices: BACKEND_NAMES,
      describe: 'tensor engine (overrides the config): auto picks torch when its addon is built, else wasm',
    })
    .option('device', {
      type: 'string',
      choices: DEVICE_NAMES,
      describe: 'where the torch backend keeps tensors (overrides the config): cpu or cuda',
    });
}

/**
 * A numeric flag must hold a whole number in [min, max]: yargs reads `--seed abc` as NaN and `--show -1` as -1,
 * and both would otherwise run. `undefined` (flag not given) passes.
 */
export function wholeNumber(value: number | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    const shown = Number.isNaN(value) ? 'something that is not a number' : String(value);
    const range = max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `of at least ${min}`;
    throw new UserError(`expected a whole number ${range}, got ${shown}`, { field: flag });
  }
}

/** --recurrence, for commands that evaluate a trained run: a looped model may run more passes than it trained with. */
export function withRecurrenceOption<T>(args: Argv<T>) {
  return args.option('recurrence', {
    type: 'number',
    describe: "passes through the layers of a looped model (model.recurrence); default the run's own",
  });
}

/** The --recurrence value, checked: a whole number of at least 1, or undefined when not given. */
export function recurrenceArgument(value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new UserError(`expected a whole number of passes, at least 1, got ${value}`, { field: '--recurrence' });
  }
  return value;
}
