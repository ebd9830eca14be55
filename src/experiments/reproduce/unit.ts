import type { Config } from '../../config/schema.ts';
import type { Cell } from '../reproductions/reproduction.ts';

/** One training run of a reproduction: a cell and a seed, with its resolved config and where its files go. */
export interface Unit {
  /** `<cell>-seed<k>`: also the name of its run directory, config and log. */
  id: string;
  cell: Cell;
  seed: number;
  config: Config;
  runDir: string;
  /** `configs/<id>.yaml`: the resolved config it is started from. */
  configFile: string;
  /** `logs/<id>.log`: its children's output. */
  logFile: string;
}
