import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_COMMAND, defaultCommand } from '../src/experiments/executors/processPool.ts';

// Sweeps and reproductions start each run as a child of the lab's CLI. In a checkout that is bin/arith-lab.js; in
// scripts/gpu-bundle.sh's bundle there is no bin/, and the children must run the bundle's CLI (main.mjs), the
// script the parent was started with.
describe('the command that starts child runs', () => {
  it('is node bin/arith-lab.js in a checkout', () => {
    expect(DEFAULT_COMMAND).toEqual([process.execPath, path.resolve('bin/arith-lab.js')]);
  });

  it('falls back to the running script when bin/arith-lab.js is not beside the code (a bundle)', () => {
    expect(defaultCommand('/nonexistent/bin/arith-lab.js')).toEqual([process.execPath, process.argv[1]]);
  });
});
