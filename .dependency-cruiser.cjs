// The layers of src/ and the arrows allowed between them (`npm run lint`). A folder may import from the folders
// below it, never from above; the report page and the run-directory module must load without tfjs.
//
//   cli -> experiments -> probes -> inference -> models -> kernels
//                 \-> report -> runs -> config -> data
//   backends -> kernels (a tfjs backend never imports the model)
const layer = (name) => `^src/${name}/`;
const forbid = (name, from, to, comment) => ({ name, severity: 'error', comment, from: { path: from }, to: { path: to } });
const TFJS = '^node_modules/@tensorflow/';

module.exports = {
  forbidden: [
    { name: 'no-folder-cycles', severity: 'error', comment: 'folders form layers: no cycle between two folders', scope: 'folder', from: { path: '^src/' }, to: { circular: true } },
    { name: 'no-circular', severity: 'error', comment: 'no import cycles between modules', from: { path: '^src/' }, to: { circular: true } },
    forbid('cli-is-top', '^src/(?!cli/)', layer('cli'), 'only the CLI imports the CLI: library code is what the CLI calls'),
    forbid('models-stay-below', layer('models'), '^src/(experiments|probes|inference|runs|report|cli|backends|config)/', 'the model knows tensors, not runs, probes or the tfjs backend it runs on'),
    forbid('backends-stay-below', layer('backends'), '^src/(models|experiments|probes|inference|runs|report|cli|config|data)/', 'a tfjs backend is independent of the model; the fused-kernel contract lives in a neutral module'),
    forbid('data-is-pure', layer('data'), '^src/(models|experiments|probes|inference|runs|report|cli|backends)/', 'data are pure functions of the config and a seed'),
    forbid('config-is-plain', layer('config'), '^src/(models|experiments|probes|inference|runs|report|cli|backends)/', 'loading a config must not load tfjs or the model'),
    forbid('runs-is-files', layer('runs'), `^src/(models|experiments|probes|inference|report|cli|backends)/|${TFJS}`, 'the run directory is files and records; reading it must not load tfjs'),
    forbid('inference-below-experiments', layer('inference'), '^src/(experiments|probes|runs|report|cli)/', 'decode, parse, score: shared by evaluation, probes and predict'),
    forbid('probes-below-experiments', layer('probes'), '^src/(experiments/(train|reproduce)|report|cli)', 'probes are called by training and reproduce, never the other way round'),
    forbid('report-without-tfjs', layer('report'), `^src/(models|experiments|inference|cli|backends)/|${TFJS}`, 'the report page reads JSON and draws it; it must load without tfjs'),
    forbid('training-loop-without-probes', '^src/experiments/train', layer('probes'), 'during-training probes come in as a callback'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs'] },
    parser: 'swc',
  },
};
