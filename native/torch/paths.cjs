// Where libtorch lives, for binding.gyp and scripts/build-torch.mjs. LIBTORCH may name a libtorch download or a
// PyTorch install (the directory of torch/__init__.py): both hold include/ and lib/. Without it, Debian's
// libtorch-dev layout (/usr/include, /usr/lib/<multiarch>). CommonJS so gyp can run it with plain `node`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function multiarchLib() {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    if (fs.existsSync(path.join(dir, 'libtorch_cpu.so'))) return dir;
  }
  return '/usr/lib/x86_64-linux-gnu';
}

/** { root, include: [dirs], lib, cuda, problem } where problem is null when headers and libraries are there. */
function findLibtorch(env = process.env) {
  const root = env.LIBTORCH || null;
  const include = root
    ? [path.join(root, 'include'), path.join(root, 'include/torch/csrc/api/include')]
    : ['/usr/include', '/usr/include/torch/csrc/api/include'];
  const lib = root ? path.join(root, 'lib') : multiarchLib();
  const cuda = fs.existsSync(path.join(lib, 'libtorch_cuda.so')) && fs.existsSync(path.join(lib, 'libc10_cuda.so'));
  let problem = null;
  if (!fs.existsSync(path.join(include[0], 'ATen/ATen.h'))) {
    problem = root
      ? `LIBTORCH=${root} has no include/ATen/ATen.h`
      : 'libtorch not found (no /usr/include/ATen/ATen.h; apt-get install libtorch-dev, or set LIBTORCH to a PyTorch install)';
  } else if (!fs.existsSync(path.join(lib, 'libtorch_cpu.so'))) {
    problem = `no libtorch_cpu.so in ${lib}`;
  }
  return { root, include, lib, cuda, problem };
}

/** Linker arguments: libtorch's libraries, an rpath to them, and the CUDA ones when this libtorch has them. */
function libraryFlags(found) {
  // --no-as-needed keeps libtorch_cuda loaded although nothing names its symbols: it registers the CUDA
  // backend with ATen when loaded.
  const cuda = found.cuda ? ['-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed'] : [];
  return [`-L${found.lib}`, `-Wl,-rpath,${found.lib}`, ...cuda, '-ltorch', '-ltorch_cpu', '-lc10', '-ldl'];
}

/** Preprocessor definitions (NAME=VALUE) beyond node-addon-api's. */
function defines(found) {
  return [found.cuda ? 'ARITH_TORCH_CUDA=1' : 'ARITH_TORCH_CUDA=0', `_GLIBCXX_USE_CXX11_ABI=${process.env.TORCH_CXX11_ABI ?? '1'}`];
}

/** The addon's C++ sources, relative to this folder: every src/*.cc. */
function sources() {
  return fs
    .readdirSync(path.join(__dirname, 'src'))
    .filter((f) => f.endsWith('.cc'))
    .sort()
    .map((f) => `src/${f}`);
}

module.exports = { findLibtorch, libraryFlags, defines, sources };

// `node paths.cjs sources|include|lib|libraries|defines`: one gyp list per call.
if (require.main === module) {
  const found = findLibtorch();
  const what = process.argv[2];
  if (what === 'sources') console.log(sources().join(' '));
  if (what === 'include') console.log(found.include.join(' '));
  if (what === 'lib') console.log(found.lib);
  if (what === 'libraries') console.log(libraryFlags(found).join(' '));
  if (what === 'defines') console.log(defines(found).join(' '));
}
