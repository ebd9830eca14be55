// The layers of src/ and the arrows allowed between them, checked by `npm run lint`. A folder imports from the
// folders below it, never from above, and no two folders import each other (even through others).
//
//   cli
//   experiments   training loop, checkpoints, reproduce (plan, process pool, results)
//   report        run directories -> figures -> one HTML page; reads probe results as JSON (their types only)
//   probes        one probe per file
//   inference     write the query, decode greedily, parse and score: shared by evaluation, probes and predict
//   runs          the run directory: names, records, JSON/JSONL, atomic writes, checkpoint files
//   config        schema, loading, the Experiment a config resolves to
//   models        GPT, ops, positional encodings (each declares its own options, which the schema composes)
//   data          problems, formats, tokenizer, batches: pure functions of the config and a seed
//   backends      tfjs backends (torch); independent of the model
//   contracts     names and attribute types shared by models and backends (fused kernels, backend names)
//
// Dependency types are not told apart (the TypeScript 7 compiler has no JS API for dependency-cruiser), so a
// type-only import is an arrow too: types live in the lowest layer that uses them.
const above = (...names) => `^src/(${names.join('|')})/`;
const forbid = (name, from, to, comment) => ({ name, severity: 'error', comment, from: { path: from }, to: { path: to } });
const TFJS = '(^|/)node_modules/@tensorflow/';

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'folders form layers: no cycle between two folders',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    { name: 'no-circular', severity: 'error', comment: 'no import cycles between modules', from: { path: '^src/' }, to: { circular: true } },
    forbid('cli-is-top', '^src/(?!cli/)', above('cli'), 'only the CLI imports the CLI: library code is what the CLI calls'),
    forbid('experiments-below-cli', '^src/experiments/', above('cli'), 'training and reproduce are library code the CLI calls'),
    forbid('report-below-experiments', '^src/report/', `${above('experiments', 'cli', 'models', 'inference', 'backends')}|${TFJS}`, 'the report page reads JSON and draws it; it loads without tfjs'),
    forbid('probes-below-experiments', '^src/probes/', above('experiments', 'report', 'cli'), 'training and reproduce call probes, never the other way round'),
    forbid('inference-below-probes', '^src/inference/', above('experiments', 'report', 'probes', 'runs', 'cli'), 'one decode -> parse -> score path under evaluation, probes and predict'),
    forbid('runs-are-files', '^src/runs/', `${above('experiments', 'report', 'probes', 'inference', 'cli', 'models', 'backends')}|${TFJS}`, 'the run directory is files and records; reading one loads no tfjs'),
    forbid('config-below-runs', '^src/config/', above('experiments', 'report', 'probes', 'inference', 'runs', 'cli', 'backends'), 'loading a config runs no training, probe or backend'),
    forbid('models-below-config', '^src/models/', above('experiments', 'report', 'probes', 'inference', 'runs', 'config', 'cli', 'backends', 'data'), 'the model knows tensors and its PE registry, not configs, data or the backend it runs on'),
    forbid('data-is-pure', '^src/data/', `${above('experiments', 'report', 'probes', 'inference', 'runs', 'config', 'cli', 'models', 'backends')}|${TFJS}`, 'data are pure functions of the config and a seed, without tensors'),
    forbid('backends-beside-models', '^src/backends/', above('experiments', 'report', 'probes', 'inference', 'runs', 'config', 'cli', 'models', 'data'), 'a tfjs backend is independent of the model; shared names live in contracts'),
    forbid('contracts-import-nothing', '^src/contracts/', '^src/', 'contracts are leaves both sides import'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs'] },
    parser: 'swc',
  },
};
