import type { Argv } from 'yargs';
import { BACKEND_NAMES, DEVICE_NAMES } from '../contracts/backendNames.ts';

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
