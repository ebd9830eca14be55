import {
  compareFigures,
  differingFields,
  finalByLength,
  flattenConfig,
  runLabels,
  sharedFields,
  summarize,
  type RunSummary,
} from './compare.ts';
import {
  accuracyByStepFigure,
  attentionFigures,
  carriesFigures,
  digitsFigure,
  evaluations,
  lengthByStepFigure,
  lengthGridFigure,
  lossFigure,
  type FigureSpec,
} from './figures.ts';
import { configValue, PROBE_FILES, trainingRange, type RunData } from './readRun.ts';
import { linearFigure, readoutFigure } from './residualFigures.ts';
import type { ErrorKind } from '../probes/tally.ts';

/**
 * The page as plain data: sections of figures, tables and notes, and a side column. Built by pure functions
 * from RunData (html.ts turns it into HTML), so tests can check what a page holds without a browser.
 */

export interface TableSpec {
  caption?: string;
  columns: string[];
  rows: (string | number | null)[][];
  /** Right-align these columns (numbers). */
  numeric?: number[];
}

export type Block = { kind: 'figure'; figure: FigureSpec } | { kind: 'table'; table: TableSpec } | { kind: 'note'; text: string };

export interface Section {
  id: string;
  heading: string;
  blocks: Block[];
}

export interface ReportPage {
  title: string;
  subtitle: string;
  sections: Section[];
  aside: Section[];
}

const figure = (spec: FigureSpec | null, otherwise: string): Block =>
  spec ? { kind: 'figure', figure: spec } : { kind: 'note', text: otherwise };
const note = (text: string): Block => ({ kind: 'note', text });

export const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(digits)}%`);

/** Every figure on a page, in page order (what the browser test expects to find rendered). */
export function pageFigures(page: ReportPage): FigureSpec[] {
  return [...page.sections, ...page.aside].flatMap((section) =>
    section.blocks.flatMap((block) => (block.kind === 'figure' ? [block.figure] : [])),
  );
}

function statusTable(run: RunData): TableSpec {
  const info = run.info;
  const steps = configValue(run.config, 'train.steps');
  const rows: [string, string | number | null][] = [
    ['directory', run.dir],
    ['status', info?.status ?? 'unknown (no run.json)'],
    ['step', `${info?.step ?? run.metrics.at(-1)?.step ?? 0} of ${steps ?? '?'}`],
  ];
  if (info) {
    if (info.message) rows.push(['message', info.message]);
    rows.push([
      'backend',
      info.threads === undefined ? info.backend : `${info.backend}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`,
    ]);
    if (info.parameters !== undefined) rows.push(['parameters', info.parameters.toLocaleString('en-US')]);
    if (info.train_seconds !== undefined) rows.push(['training time', `${info.train_seconds.toFixed(0)} s`]);
    rows.push(['started', info.started_at], ['updated', info.updated_at]);
    if (info.finished_at) rows.push(['finished', info.finished_at]);
    if (info.checkpoint) rows.push(['newest checkpoint', info.checkpoint.dir]);
    if (info.resumes?.length) rows.push(['resumed', info.resumes.map((r) => `at step ${r.step} (${r.at})`).join('; ')]);
    rows.push(['git commit', info.git_commit ?? '–']);
    for (const [name, version] of Object.entries(info.versions ?? {})) rows.push([name, version]);
  }
  return { columns: ['', ''], rows };
}

function accuracyTable(run: RunData): TableSpec | null {
  const last = evaluations(run.metrics).at(-1);
  if (!last) return null;
  const range = trainingRange(run);
  const finished = run.info?.status === 'finished';
  const lengths = Object.keys(last.accuracy!)
    .map(Number)
    .sort((a, b) => a - b);
  return {
    caption: `Held-out exact match, ${finished ? 'final' : `step ${last.step}`}`,
    columns: ['digits', 'exact match', ''],
    rows: [
      ...lengths.map((n) => [n, pct(last.accuracy![String(n)]), range && n >= range[0] && n <= range[1] ? 'trained' : 'beyond']),
      ['in range', pct(last.accuracy_in_range), ''],
      ['beyond', pct(last.accuracy_beyond), ''],
    ],
    numeric: [0, 1],
  };
}

function configTable(run: RunData): TableSpec {
  return { caption: 'Resolved config', columns: ['field', 'value'], rows: Object.entries(flattenConfig(run.config)) };
}

/** Wrong answers by kind, in words. */
const kindsText = (tally: Record<ErrorKind, number>) =>
  `${tally.short} stopped early, ${tally.long} did not stop, ${tally.digits} had wrong digits, ${tally.unparsed} did not parse`;

/** A few wrong answers at trained lengths and a few beyond, so neither crowds out the other. */
function errorsBlocks(run: RunData, perSide = 8): Block[] {
  const errors = run.probes.errors;
  if (!errors) return [];
  const histogram = Object.entries(errors.byFirstWrongDigit)
    .map(([digit, count]) => `${digit === 'unparsed' ? 'unparsed' : `digit ${digit}`}: ${count}`)
    .join(', ');
  const blocks: Block[] = [
    note(
      `${errors.wrong} of ${errors.problems} length-grid problems wrong (${errors.unparsed} unparsed), checkpoint step ${errors.step ?? '?'}. ` +
        (histogram ? `First wrong digit, counted from the units: ${histogram}.` : '') +
        (errors.byKind ? ` Beyond the trained lengths: ${kindsText(errors.byKind.beyond)}.` : ''),
    ),
  ];
  const shown = [
    ...errors.examples.filter((e) => e.inTrainingRange).slice(0, perSide),
    ...errors.examples.filter((e) => !e.inTrainingRange).slice(0, perSide),
  ];
  if (shown.length > 0) {
    blocks.push({
      kind: 'table',
      table: {
        caption: `${shown.length} of ${errors.examples.length} sampled wrong answers (at most ${perSide} at trained lengths and ${perSide} beyond)`,
        columns: ['problem', 'digits a × b', 'length', 'expected', 'got', 'first wrong digit', 'raw output'],
        rows: shown.map((e) => [
          e.problem,
          `${e.digitsA} × ${e.digitsB}`,
          e.inTrainingRange ? 'trained' : 'beyond',
          e.expected,
          e.got ?? `unparsed: ${e.parseError ?? ''}`,
          e.firstWrongDigit,
          JSON.stringify(e.output),
        ]),
        numeric: [3, 4, 5],
      },
    });
  }
  return blocks;
}

/** The sections a run's probes fill, or one note saying how to add them. */
function probeSections(run: RunData): Section[] {
  const { probes } = run;
  const range = trainingRange(run);
  const hint = (names: string) => `arith-lab probe ${run.dir}${names ? ` ${names}` : ''}`;
  const missing = (name: string) => `No probes/${name}.json yet: \`${hint(`--probe ${name}`)}\` adds it.`;
  const sections: Section[] = [];
  const byStep = lengthByStepFigure(run);
  const anyProbe = PROBE_FILES.some((name) => probes[name]);
  if (!anyProbe) {
    sections.push({
      id: 'probes',
      heading: 'Probes',
      blocks: [
        note(
          `This run has no probes yet. \`${hint('')}\` adds the length grid, per-digit accuracy, carry buckets, attention maps, wrong answers and what the residual stream holds (linear and readout probes) to this page.`,
        ),
        ...(byStep ? [{ kind: 'figure', figure: byStep } as Block] : []),
      ],
    });
    return sections;
  }
  const stale = Object.values(probes)
    .map((p) => p.step)
    .filter((step): step is number => typeof step === 'number' && run.info?.step !== undefined && step < run.info.step);
  const staleNote = stale.length
    ? [
        note(
          `Some probes read an older checkpoint (step ${Math.min(...stale)}) than the run has reached (step ${run.info!.step}); rerun \`${hint('')}\` to update them.`,
        ),
      ]
    : [];
  sections.push({
    id: 'length',
    heading: 'Length generalization',
    blocks: [
      ...staleNote,
      probes.length ? { kind: 'figure', figure: lengthGridFigure(probes.length) } : note(missing('length')),
      ...(probes.length?.maxDigitsLimit
        ? [
            note(
              `The ${probes.length.lengths ? 'probe' : 'grid'} stops at ${probes.length.maxDigits} digits (${probes.length.requestedMaxDigits} asked): ${probes.length.maxDigitsLimit}.`,
            ),
          ]
        : []),
      ...(byStep ? [{ kind: 'figure', figure: byStep } as Block] : []),
    ],
  });
  sections.push({
    id: 'digits',
    heading: 'Digits and carries',
    blocks: [
      probes.digits ? { kind: 'figure', figure: digitsFigure(probes.digits, range) } : note(missing('digits')),
      ...(probes.carries ? carriesFigures(probes.carries).map((f): Block => ({ kind: 'figure', figure: f })) : [note(missing('carries'))]),
    ],
  });
  sections.push({
    id: 'attention',
    heading: 'Attention',
    blocks: probes.attention
      ? probes.attention.prompts.length
        ? attentionFigures(probes.attention).map((f): Block => ({ kind: 'figure', figure: f }))
        : [note('The attention probe found no prompts to show.')]
      : [note(missing('attention'))],
  });
  sections.push({ id: 'errors', heading: 'Wrong answers', blocks: probes.errors ? errorsBlocks(run) : [note(missing('errors'))] });
  sections.push({
    id: 'residual',
    heading: 'What the residual stream holds',
    blocks:
      probes.linear || probes.readout
        ? [
            probes.linear ? { kind: 'figure', figure: linearFigure(probes.linear) } : note(missing('linear')),
            probes.readout ? { kind: 'figure', figure: readoutFigure(probes.readout) } : note(missing('readout')),
          ]
        : [note(`No linear or readout probe yet: \`${hint('--probe linear --probe readout')}\` adds them.`)],
  });
  return sections;
}

export function runPage(run: RunData, generatedAt = new Date()): ReportPage {
  const evalEvery = configValue(run.config, 'train.eval_every');
  const status = run.info?.status ?? 'unknown';
  const step = run.info?.step ?? run.metrics.at(-1)?.step ?? 0;
  const pos = configValue(run.config, 'model.pos');
  const format = configValue(run.config, 'format.name');
  const range = trainingRange(run);
  const aside: Section[] = [{ id: 'run', heading: 'Run', blocks: [{ kind: 'table', table: statusTable(run) }] }];
  const accuracy = accuracyTable(run);
  if (accuracy) aside.push({ id: 'final-accuracy', heading: 'Accuracy', blocks: [{ kind: 'table', table: accuracy }] });
  aside.push({
    id: 'config',
    heading: 'Config',
    blocks: run.config ? [{ kind: 'table', table: configTable(run) }] : [note('No config.yaml.')],
  });
  if (run.notes.length) aside.push({ id: 'notes', heading: 'Notes', blocks: run.notes.map(note) });
  return {
    title: `${run.name}`,
    subtitle: [
      `${status}${status === 'running' ? ' (this page shows what exists so far; reload to update)' : ''}, step ${step} of ${configValue(run.config, 'train.steps') ?? '?'}`,
      [format, pos !== undefined ? `pos ${pos}` : null, range ? `trained on ${range[0]}–${range[1]} digits` : null]
        .filter(Boolean)
        .join(', '),
      `generated ${generatedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    ].join(' · '),
    sections: [
      {
        id: 'training',
        heading: 'Training',
        blocks: [
          figure(lossFigure(run), 'No metrics yet: metrics.jsonl is empty or missing.'),
          figure(accuracyByStepFigure(run), `No evaluation yet (the first comes at step ${evalEvery ?? 'train.eval_every'}).`),
        ],
      },
      ...probeSections(run),
    ],
    aside,
  };
}

function comparisonTable(runs: RunData[], fields: string[]): TableSpec {
  const summaries: RunSummary[] = runs.map(summarize);
  const flat = runs.map((run) => flattenConfig(run.config));
  const probeColumns = summaries.some((s) => s.probe);
  return {
    caption: 'Held-out exact match in and beyond the training range (mean over test lengths)',
    columns: [
      'run',
      ...fields,
      'status',
      'step',
      'in range',
      'beyond',
      ...(probeColumns ? ['probe: in range', 'probe: beyond (up to)'] : []),
    ],
    rows: runs.map((run, i) => {
      const s = summaries[i];
      return [
        run.name,
        ...fields.map((key) => flat[i][key] ?? '(unset)'),
        s.status,
        s.step === null
          ? '–'
          : `${s.step}${s.totalSteps ? ` of ${s.totalSteps}` : ''}${s.source === 'latest evaluation' ? ' (latest eval)' : ''}`,
        pct(s.inRange),
        pct(s.beyond),
        ...(probeColumns ? (s.probe ? [pct(s.probe.inRange), `${pct(s.probe.beyond)} (${s.probe.maxDigits} digits)`] : ['–', '–']) : []),
      ];
    }),
    numeric: [fields.length + 2, fields.length + 3, fields.length + 4, ...(probeColumns ? [fields.length + 5, fields.length + 6] : [])],
  };
}

export function comparePage(runs: RunData[], generatedAt = new Date()): ReportPage {
  const fields = differingFields(runs);
  const labels = runLabels(runs, fields);
  const figures = compareFigures(runs, labels);
  const byId = (id: string) => figures.find((f) => f.id === id) ?? null;
  const unprobed = runs.filter((run) => !run.probes.length).map((run) => run.name);
  const noEval = runs.filter((run) => !finalByLength(run)).map((run) => run.name);
  const notes = runs.flatMap((run) => run.notes.map((text) => `${run.name}: ${text}`));
  return {
    title: `Comparison of ${runs.length} runs`,
    subtitle: [
      fields.length ? `differing in ${fields.join(', ')}` : 'the runs share every config field',
      `generated ${generatedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    ].join(' · '),
    sections: [
      {
        id: 'generalization',
        heading: 'Which runs length-generalize',
        blocks: [
          { kind: 'table', table: comparisonTable(runs, fields) },
          figure(byId('compare-by-length'), 'No run has an evaluation yet.'),
          ...(noEval.length && noEval.length < runs.length ? [note(`No evaluation yet: ${noEval.join(', ')}.`)] : []),
          figure(byId('compare-grids'), 'No run has a length probe yet (`arith-lab probe <run> --probe length`).'),
          ...(unprobed.length && unprobed.length < runs.length ? [note(`Not probed yet: ${unprobed.join(', ')}.`)] : []),
        ],
      },
      {
        id: 'curves',
        heading: 'Training curves',
        blocks: [
          figure(byId('compare-in-range'), 'No evaluation yet.'),
          ...(byId('compare-beyond') ? [figure(byId('compare-beyond'), '')] : []),
          figure(byId('compare-loss'), 'No metrics yet.'),
          ...(byId('compare-loss-by-time') ? [figure(byId('compare-loss-by-time'), '')] : []),
        ],
      },
    ],
    aside: [
      {
        id: 'runs',
        heading: 'Runs',
        blocks: [
          {
            kind: 'table',
            table: {
              columns: ['label', 'directory'],
              rows: runs.map((run, i) => [labels[i], run.dir]),
            },
          },
        ],
      },
      {
        id: 'shared-config',
        heading: 'Shared config',
        blocks: [{ kind: 'table', table: { columns: ['field', 'value'], rows: sharedFields(runs) } }],
      },
      ...(notes.length ? [{ id: 'notes', heading: 'Notes', blocks: notes.map(note) }] : []),
    ],
  };
}
