// Whether the built addon is up to date. `npx arith-lab` in a fresh clone installs the folder into npx's cache,
// which runs postinstall again; without this check that compiled the addon a second time (~100 s). The stamp, a
// JSON file next to the addon, records what the build depended on: the addon's sources, libtorch and Node's ABI.
// CommonJS, like paths.cjs, so scripts/build-torch.mjs can load it with plain `node`.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

/** Where the stamp of the addon at `addonFile` lives. */
function stampFile(addonFile) {
  return path.join(path.dirname(addonFile), 'arith_torch.stamp.json');
}

/** Every file under `dir` but `build/`, as sorted relative paths (forward slashes). */
function sourceFiles(dir) {
  const files = [];
  const walk = (relative) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const name = relative ? `${relative}/${entry.name}` : entry.name;
      if (name === 'build') continue;
      if (entry.isDirectory()) walk(name);
      else if (entry.isFile()) files.push(name);
    }
  };
  walk('');
  return files.sort();
}

/** SHA-256 of the addon's sources: each file's relative path and content (the build folder excluded). */
function hashSources(dir) {
  const hash = crypto.createHash('sha256');
  for (const name of sourceFiles(dir)) {
    hash.update(`${name}\0`);
    hash.update(fs.readFileSync(path.join(dir, name)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** `1.13.0` from libtorch's torch/version.h, or null when no include folder has it. */
function libtorchVersion(includeDirs) {
  for (const dir of includeDirs) {
    for (const file of [path.join(dir, 'torch/version.h'), path.join(dir, 'torch/csrc/api/include/torch/version.h')]) {
      if (!fs.existsSync(file)) continue;
      const text = fs.readFileSync(file, 'utf8');
      const part = (name) => new RegExp(`#define\\s+TORCH_VERSION_${name}\\s+(\\d+)`).exec(text)?.[1];
      const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
      if (major !== undefined) return [major, minor ?? '0', patch ?? '0'].join('.');
    }
  }
  return null;
}

/**
 * The stamp for a build from these inputs (a pure function): `sources` the hash of native/torch, `libtorch` where
 * it is and which version, `defines` the preprocessor definitions (CUDA, C++ ABI), `cxxStd` the C++ standard of a
 * direct build, `nodeAbi` process.versions.modules.
 */
function buildStamp({ sources, libtorch, defines, cxxStd, nodeAbi }) {
  return {
    stamp: 'arith-lab-torch-addon/1',
    sources,
    libtorch: { root: libtorch.root ?? null, lib: libtorch.lib, version: libtorch.version ?? null, cuda: Boolean(libtorch.cuda) },
    defines: [...defines],
    cxxStd,
    nodeAbi: String(nodeAbi),
  };
}

/** The stamp file's text. */
function stampText(stamp) {
  return `${JSON.stringify(stamp, null, 2)}\n`;
}

/**
 * Whether a build is needed: not when the addon exists and the stamp written after its build (`previousText`,
 * null when missing) equals `stamp`, unless forced.
 */
function needsBuild(stamp, { addonExists, previousText, force = false }) {
  if (force || !addonExists || previousText === null) return true;
  try {
    return stampText(JSON.parse(previousText)) !== stampText(stamp);
  } catch {
    return true;
  }
}

module.exports = { stampFile, hashSources, libtorchVersion, buildStamp, stampText, needsBuild };
