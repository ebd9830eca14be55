#!/usr/bin/env node
/**
 * Builds the libtorch addon (native/torch) with node-gyp: `npm run build:torch`, and on `npm install`/`npm ci`
 * (postinstall). libtorch is optional: without it, or when the build fails, the postinstall prints one line and
 * succeeds, and `--backend auto` uses wasm. `npm run build:torch` exits non-zero on failure and shows the log.
 * LIBTORCH=<libtorch or PyTorch install dir> picks the library; ARITH_SKIP_TORCH_BUILD=1 skips the build.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = path.join(root, 'native/torch');
const postinstall = process.argv.includes('--postinstall');

function giveUp(reason, log = '') {
  if (postinstall) {
    console.log(`arith-lab: torch backend not built (${reason}); the wasm backend works without it. Details: npm run build:torch`);
    process.exit(0);
  }
  if (log) console.error(log);
  console.error(`build:torch failed: ${reason}`);
  process.exit(1);
}

if (process.env.ARITH_SKIP_TORCH_BUILD === '1') giveUp('ARITH_SKIP_TORCH_BUILD=1');
const { findLibtorch } = require(path.join(addonDir, 'paths.cjs'));
const found = findLibtorch();
if (found.problem) giveUp(found.problem);

// node-gyp ships with npm; npm names it to scripts it runs, else find it beside this node's npm.
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  path.join(path.dirname(process.execPath), 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter(Boolean);
const nodeGyp = candidates.find((file) => fs.existsSync(file));
if (!nodeGyp) giveUp('node-gyp not found (it comes with npm)');

// Headers of the running node, so node-gyp needs no download (this machine may have no internet).
const nodeRoot = path.resolve(path.dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (fs.existsSync(path.join(nodeRoot, 'include/node/node_api.h')) ? nodeRoot : null);
const args = [nodeGyp, 'rebuild', '--jobs=2', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const started = Date.now();
const result = spawnSync(process.execPath, args, { cwd: addonDir, encoding: 'utf8', env: { ...process.env, LIBTORCH: found.root ?? '' } });
if (result.status !== 0) {
  const log = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const firstError = log.split('\n').find((line) => /error/i.test(line)) ?? `node-gyp exited with ${result.status}`;
  giveUp(firstError.trim().slice(0, 200), log);
}
console.log(`arith-lab: torch backend built against ${found.root ?? 'Debian libtorch'}${found.cuda ? ' (with CUDA)' : ''} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
