import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// scripts/build-torch.mjs keeps an addon built from the same sources, libtorch and Node ABI (native/torch/stamp.cjs),
// so npx's reinstall of the folder does not compile it again. Nothing here compiles: a build it should not start
// fails at once (CXX=false, --direct).

interface Stamp {
  sources: string;
  nodeAbi: string;
  libtorch: { root: string | null; lib: string; version: string | null; cuda: boolean };
}
interface StampInputs {
  sources: string;
  libtorch: { root: string | null; lib: string; version: string | null; cuda: boolean };
  defines: string[];
  cxxStd: string;
  nodeAbi: string;
}
interface StampModule {
  stampFile(addonFile: string): string;
  hashSources(dir: string): string;
  libtorchVersion(includeDirs: string[]): string | null;
  buildStamp(inputs: StampInputs): Stamp;
  stampText(stamp: Stamp): string;
  needsBuild(stamp: Stamp, state: { addonExists: boolean; previousText: string | null; force?: boolean }): boolean;
}

const require = createRequire(import.meta.url);
const stamps = require('../native/torch/stamp.cjs') as StampModule;
const paths = require('../native/torch/paths.cjs') as {
  findLibtorch(): { root: string | null; include: string[]; lib: string; cuda: boolean; problem: string | null };
  defines(found: object): string[];
};

const INPUTS: StampInputs = {
  sources: 'a'.repeat(64),
  libtorch: { root: null, lib: '/usr/lib/x86_64-linux-gnu', version: '1.13.0', cuda: false },
  defines: ['ARITH_TORCH_CUDA=0', '_GLIBCXX_USE_CXX11_ABI=1'],
  cxxStd: 'c++17',
  nodeAbi: '115',
};

function temporaryDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'arith-stamp-'));
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

describe('the addon build stamp', () => {
  it('is a pure function of its inputs', () => {
    expect(stamps.stampText(stamps.buildStamp(INPUTS))).toBe(stamps.stampText(stamps.buildStamp(structuredClone(INPUTS))));
  });

  it('keeps an addon whose stamp matches, and rebuilds when any input differs, the stamp is missing or damaged, or on --force', () => {
    const stamp = stamps.buildStamp(INPUTS);
    const previousText = stamps.stampText(stamp);
    expect(stamps.needsBuild(stamp, { addonExists: true, previousText })).toBe(false);
    expect(stamps.needsBuild(stamp, { addonExists: true, previousText, force: true })).toBe(true);
    expect(stamps.needsBuild(stamp, { addonExists: false, previousText })).toBe(true);
    expect(stamps.needsBuild(stamp, { addonExists: true, previousText: null })).toBe(true);
    expect(stamps.needsBuild(stamp, { addonExists: true, previousText: '{"stamp": ' })).toBe(true);
    const changed: StampInputs[] = [
      { ...INPUTS, sources: 'b'.repeat(64) },
      { ...INPUTS, nodeAbi: '127' },
      { ...INPUTS, libtorch: { ...INPUTS.libtorch, version: '2.5.1' } },
      { ...INPUTS, libtorch: { ...INPUTS.libtorch, root: '/opt/torch', lib: '/opt/torch/lib' } },
      { ...INPUTS, libtorch: { ...INPUTS.libtorch, cuda: true } },
      { ...INPUTS, defines: ['ARITH_TORCH_CUDA=0', '_GLIBCXX_USE_CXX11_ABI=0'] },
      { ...INPUTS, cxxStd: 'c++20' },
    ];
    for (const inputs of changed) {
      expect(stamps.needsBuild(stamps.buildStamp(inputs), { addonExists: true, previousText }), JSON.stringify(inputs)).toBe(true);
    }
  });

  it('hashes every source file by path and content, and not the build folder', () => {
    const dir = temporaryDir();
    write(path.join(dir, 'src/a.cc'), 'int a;');
    write(path.join(dir, 'binding.gyp'), '{}');
    const before = stamps.hashSources(dir);
    write(path.join(dir, 'build/Release/arith_torch.node'), 'binary');
    write(path.join(dir, 'build/Release/arith_torch.stamp.json'), '{}');
    expect(stamps.hashSources(dir)).toBe(before);
    write(path.join(dir, 'src/a.cc'), 'int b;');
    expect(stamps.hashSources(dir)).not.toBe(before);
    write(path.join(dir, 'src/a.cc'), 'int a;');
    expect(stamps.hashSources(dir)).toBe(before);
    fs.renameSync(path.join(dir, 'src/a.cc'), path.join(dir, 'src/b.cc'));
    expect(stamps.hashSources(dir)).not.toBe(before);
  });

  it("reads libtorch's version from its headers", () => {
    const dir = temporaryDir();
    write(
      path.join(dir, 'include/torch/csrc/api/include/torch/version.h'),
      '#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 5\n#define TORCH_VERSION_PATCH 1\n',
    );
    expect(stamps.libtorchVersion([path.join(dir, 'include'), path.join(dir, 'include/torch/csrc/api/include')])).toBe('2.5.1');
    expect(stamps.libtorchVersion([path.join(dir, 'nothing')])).toBeNull();
  });

  it('lives next to the addon', () => {
    expect(stamps.stampFile('/x/build/Release/arith_torch.node')).toBe('/x/build/Release/arith_torch.stamp.json');
  });
});

// The script itself, on a copy of native/torch with a stand-in addon: skipped without libtorch (nothing to build).
const found = paths.findLibtorch();
describe.skipIf(found.problem !== null)('scripts/build-torch.mjs', () => {
  function copyOfTheAddonFolder(): { root: string; addon: string } {
    const root = temporaryDir();
    fs.mkdirSync(path.join(root, 'scripts'));
    fs.copyFileSync('scripts/build-torch.mjs', path.join(root, 'scripts/build-torch.mjs'));
    fs.cpSync('native/torch', path.join(root, 'native/torch'), { recursive: true, filter: (source) => !source.includes('/build') });
    const addon = path.join(root, 'native/torch/build/Release/arith_torch.node');
    write(addon, 'stand-in');
    return { root, addon };
  }

  function run(root: string, ...args: string[]) {
    return spawnSync(process.execPath, [path.join(root, 'scripts/build-torch.mjs'), '--direct', ...args], {
      encoding: 'utf8',
      env: { ...process.env, CXX: 'false', ARITH_SKIP_TORCH_BUILD: '' },
    });
  }

  it('skips the build when the stamp matches, and builds on --force or when it differs', () => {
    const { root, addon } = copyOfTheAddonFolder();
    const copied = require(path.join(root, 'native/torch/stamp.cjs')) as StampModule;
    const stamp = copied.buildStamp({
      sources: copied.hashSources(path.join(root, 'native/torch')),
      libtorch: { ...found, version: copied.libtorchVersion(found.include) },
      defines: paths.defines(found),
      cxxStd: process.env.ARITH_CXX_STD || 'c++17',
      nodeAbi: process.versions.modules,
    });
    fs.writeFileSync(copied.stampFile(addon), copied.stampText(stamp));

    const skipped = run(root);
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(skipped.stdout).toMatch(/already built/);
    expect(fs.readFileSync(addon, 'utf8')).toBe('stand-in');

    // A build is attempted (and fails at once: CXX=false, or no node-addon-api in the copy).
    const forced = run(root, '--force');
    expect(forced.status).toBe(1);
    expect(forced.stdout).not.toMatch(/already built/);

    fs.appendFileSync(path.join(root, 'native/torch/src/addon.cc'), '\n// changed\n');
    const changed = run(root);
    expect(changed.status).toBe(1);
    expect(changed.stdout).not.toMatch(/already built/);
  });
});
