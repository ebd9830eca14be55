#!/usr/bin/env node
/**
 * Builds the libtorch addon (native/torch) with node-gyp: `npm run build:torch`, and on `npm install`/`npm ci`
 * (postinstall). libtorch is optional: without it, or when the build fails, the postinstall prints one line and
 * succeeds, and `--backend auto` uses wasm. `npm run build:torch` exits non-zero on failure and shows the log.
 * LIBTORCH=<libtorch or PyTorch install dir> picks the library; ARITH_SKIP_TORCH_BUILD=1 skips the build.
 * --direct (or no node-gyp, as with a bare Node binary) compiles with $CXX (g++) instead of node-gyp; it needs
 * Node's headers (npm_config_nodedir, default the running node's prefix) and node-addon-api (NODE_ADDON_API_DIR).
 * ARITH_BUILD_JOBS=N compiles N files at a time (default 2); ARITH_CXX_STD=c++20 (default c++17) for the newest
 * PyTorch headers, which move to C++20.
 * An addon built from the same sources, libtorch and Node ABI is kept (native/torch/stamp.cjs): `npx` installing
 * the folder into its cache runs postinstall again, which must not compile it twice. --force rebuilds anyway.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = path.join(root, 'native/torch');
const postinstall = process.argv.includes('--postinstall');
const jobs = Math.max(1, Math.floor(Number(process.env.ARITH_BUILD_JOBS)) || 2);

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
const { findLibtorch, defines } = require(path.join(addonDir, 'paths.cjs'));
const found = findLibtorch();
if (found.problem) giveUp(found.problem);

const { stampFile, hashSources, libtorchVersion, buildStamp, stampText, needsBuild } = require(path.join(addonDir, 'stamp.cjs'));
const addonFile = path.join(addonDir, 'build/Release/arith_torch.node');
const stamp = buildStamp({
  sources: hashSources(addonDir),
  libtorch: { ...found, version: libtorchVersion(found.include) },
  defines: defines(found),
  cxxStd: process.env.ARITH_CXX_STD || 'c++17',
  nodeAbi: process.versions.modules,
});
const previousStamp = fs.existsSync(stampFile(addonFile)) ? fs.readFileSync(stampFile(addonFile), 'utf8') : null;
if (!needsBuild(stamp, { addonExists: fs.existsSync(addonFile), previousText: previousStamp, force: process.argv.includes('--force') })) {
  console.log('arith-lab: torch backend already built from these sources, libtorch and Node (npm run build:torch -- --force rebuilds it)');
  process.exit(0);
}

// Headers of the running node, so nothing is downloaded (this machine may have no internet).
const nodeRoot = path.resolve(path.dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (fs.existsSync(path.join(nodeRoot, 'include/node/node_api.h')) ? nodeRoot : null);

// node-gyp ships with npm; npm names it to scripts it runs, else find it beside this node's npm. Without it (a
// bare Node binary on an offline GPU box), or with --direct, the compiler is called directly.
const candidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  path.join(path.dirname(process.execPath), 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter(Boolean);
const nodeGyp = process.argv.includes('--direct') ? undefined : candidates.find((file) => fs.existsSync(file));
const started = Date.now();
const env = { ...process.env, LIBTORCH: found.root ?? '' };
if (nodeGyp) {
  const args = [nodeGyp, 'rebuild', `--jobs=${jobs}`, ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const result = spawnSync(process.execPath, args, { cwd: addonDir, encoding: 'utf8', env });
  if (result.status !== 0) {
    const log = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    const firstError = log.split('\n').find((line) => /error/i.test(line)) ?? `node-gyp exited with ${result.status}`;
    giveUp(firstError.trim().slice(0, 200), log);
  }
} else {
  await buildDirect();
}
fs.writeFileSync(stampFile(addonFile), stampText(stamp));
console.log(
  `arith-lab: torch backend built against ${found.root ?? 'Debian libtorch'}${found.cuda ? ' (with CUDA)' : ''} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);

/** The same build as binding.gyp, by calling the C++ compiler (CXX, default g++) `jobs` files at a time. */
async function buildDirect() {
  if (!nodedir) giveUp('no Node headers: set npm_config_nodedir to a folder holding include/node/node_api.h');
  let addonApi = process.env.NODE_ADDON_API_DIR;
  if (!addonApi) {
    try {
      addonApi = path.dirname(require.resolve('node-addon-api/package.json', { paths: [root] }));
    } catch {
      giveUp('node-addon-api not found (npm ci installs it; or set NODE_ADDON_API_DIR)');
    }
  }
  const { libraryFlags, defines, sources } = require(path.join(addonDir, 'paths.cjs'));
  const cxx = process.env.CXX || 'g++';
  const objDir = path.join(addonDir, 'build/Release/obj.direct');
  fs.mkdirSync(objDir, { recursive: true });
  const flags = [
    `-std=${process.env.ARITH_CXX_STD || 'c++17'}`,
    '-O3',
    // Lets loops with a select vectorize (the attention's exp); we never enable floating-point traps.
    '-fno-trapping-math',
    '-fPIC',
    '-fexceptions',
    '-frtti',
    '-Wno-deprecated-declarations',
    ...['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_CPP_EXCEPTIONS_ALL', ...defines(found)].map((d) => `-D${d}`),
    `-I${path.join(nodedir, 'include/node')}`,
    `-I${addonApi}`,
    ...found.include.map((dir) => `-I${dir}`),
  ];
  const queue = sources().map((source) => ({ source, object: path.join(objDir, `${path.basename(source, '.cc')}.o`) }));
  const compile = ({ source, object }) =>
    new Promise((resolve) => {
      const child = spawn(cxx, [...flags, '-c', source, '-o', object], { cwd: addonDir, env });
      let log = '';
      child.stdout.on('data', (chunk) => (log += chunk));
      child.stderr.on('data', (chunk) => (log += chunk));
      child.on('error', (error) => resolve({ status: 1, log: `${cxx}: ${error.message}` }));
      child.on('close', (status) => resolve({ status, log }));
    });
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const { status, log } = await compile(job);
      if (status !== 0)
        giveUp((log.split('\n').find((line) => /error/.test(line)) ?? `${cxx} failed on ${job.source}`).trim().slice(0, 200), log);
    }
  };
  const objects = sources().map((source) => path.join(objDir, `${path.basename(source, '.cc')}.o`));
  await Promise.all(Array.from({ length: jobs }, worker));
  const link = spawnSync(
    cxx,
    ['-shared', '-o', path.join(addonDir, 'build/Release/arith_torch.node'), ...objects, ...libraryFlags(found)],
    { cwd: addonDir, encoding: 'utf8', env },
  );
  if (link.status !== 0) giveUp(`linking failed: ${(link.stderr ?? '').split('\n')[0]}`, `${link.stdout}${link.stderr}`);
}
