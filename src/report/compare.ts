import type { MetricsRecord } from '../runs/records.ts';
import {
  axis,
  baseLayout,
  evaluations,
  LEGEND_BOTTOM,
  LEGEND_RIGHT,
  percent,
  RUN_COLORS,
  subplotTitle,
  bins,
  mean,
  type FigureSpec,
  type Trace,
} from './figures.ts';
import { trainingRange, type RunData } from './readRun.ts';

/**
 * Several runs on one page: which config fields differ, a label per run built from them, the accuracy each
 * reached in and beyond its training range, and overlaid figure specs (plain JSON, as figures.ts).
 */

/** Config leaves by dotted path, values as compact JSON (arrays are leaves: `task.train_digits` = `[1,5]`). */
export function flattenConfig(config: Record<string, unknown> | null, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config ?? {})) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      Object.assign(out, flattenConfig(value as Record<string, unknown>, dotted));
    else out[dotted] = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  }
  return out;
}

/**
 * Fields that say what a run is called and when it writes (logs, evaluations, checkpoints, probes), not what it
 * trains: a comparison of runs started with different cadences would otherwise label every run by them.
 */
const BOOKKEEPING = new Set([
  'name',
  'train.log_every',
  'train.eval_every',
  'train.eval_size',
  'train.checkpoint_every',
  'train.keep_checkpoints',
  'train.keep_checkpoints_at',
  'train.probe_every',
  'train.probe_samples',
]);

/**
 * Fields whose values are not the same in every run, in config order. Bookkeeping fields (the name follows from
 * the config file: addition-rope vs addition-nope differ in model.pos) count only when nothing else differs.
 */
export function differingFields(runs: RunData[]): string[] {
  const flat = runs.map((run) => flattenConfig(run.config));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  const differs = keys.filter((key) => new Set(flat.map((f) => f[key] ?? '(unset)')).size > 1);
  const meaningful = differs.filter((key) => !BOOKKEEPING.has(key));
  return meaningful.length > 0 ? meaningful : differs;
}

/** Fields every run shares, with their one value (the shared setup of a comparison). */
export function sharedFields(runs: RunData[]): [string, string][] {
  const flat = runs.map((run) => flattenConfig(run.config));
  const differs = new Set(differingFields(runs));
  return Object.keys(flat[0] ?? {})
    .filter((key) => !differs.has(key) && flat.every((f) => f[key] === flat[0][key]))
    .map((key) => [key, flat[0][key]]);
}

/**
 * A legend name per run from the fields that differ (`model.pos=rope`; several joined by commas). Runs that
 * differ in nothing, or would share a label, fall back to (or add) their directory name.
 */
export function runLabels(runs: RunData[], fields = differingFields(runs)): string[] {
  const labels = runs.map((run) => {
    if (fields.length === 0) return run.name;
    const flat = flattenConfig(run.config);
    return fields.map((key) => `${key}=${flat[key] ?? '(unset)'}`).join(', ');
  });
  return labels.map((label, i) =>
    labels.indexOf(label) !== labels.lastIndexOf(label) && label !== runs[i].name ? `${label} (${runs[i].name})` : label,
  );
}

export interface RunSummary {
  /** Step of the accuracies below and where they came from. */
  step: number | null;
  source: 'final' | 'latest evaluation' | 'none';
  status: string;
  totalSteps: number | null;
  inRange: number | null;
  beyond: number | null;
  /** Length probe (when run): mean diagonal accuracy in and beyond the range, up to `maxDigits`. */
  probe: { step: number | null; inRange: number | null; beyond: number | null; maxDigits: number } | null;
}

export function summarize(run: RunData): RunSummary {
  const last: MetricsRecord | undefined = evaluations(run.metrics).at(-1);
  const result = run.info?.status === 'finished' ? run.info.result : undefined;
  const steps = Number((run.config?.train as Record<string, unknown> | undefined)?.steps);
  const length = run.probes.length;
  return {
    step: result ? (run.info?.step ?? last?.step ?? null) : (last?.step ?? null),
    source: result ? 'final' : last ? 'latest evaluation' : 'none',
    status: run.info?.status ?? 'unknown',
    totalSteps: Number.isFinite(steps) ? steps : null,
    inRange: result ? result.accuracy_in_range : (last?.accuracy_in_range ?? null),
    beyond: result ? result.accuracy_beyond : (last?.accuracy_beyond ?? null),
    probe: length
      ? { step: length.step, inRange: length.summary.diagonalInRange, beyond: length.summary.diagonalBeyond, maxDigits: length.maxDigits }
      : null,
  };
}

/**
 * Accuracy by operand length at the end: the length probe's diagonal when there is one (it reaches further
 * than the test lengths), else the latest evaluation.
 */
export function finalByLength(
  run: RunData,
): { lengths: number[]; accuracy: (number | null)[]; source: 'length probe' | 'evaluation' } | null {
  const diagonal = run.probes.length?.diagonal;
  if (diagonal?.length)
    return { lengths: diagonal.map((c) => c.digitsA), accuracy: diagonal.map((c) => c.accuracy), source: 'length probe' };
  const last = evaluations(run.metrics).at(-1);
  if (!last) return null;
  const lengths = Object.keys(last.accuracy!)
    .map(Number)
    .sort((a, b) => a - b);
  return { lengths, accuracy: lengths.map((n) => last.accuracy![String(n)]), source: 'evaluation' };
}

const color = (i: number) => RUN_COLORS[i % RUN_COLORS.length];
/** Labels longer than this (runs that differ in several fields) go below the plot: on its right they squeeze it. */
const LONG_LABEL = 40;
/** Characters per legend line below the plot, where a label as wide as the figure breaks plotly's margins. */
const LEGEND_WIDTH = 60;
const LEGEND_LINE = 22;

/** A run's label for the legend: broken after a comma into lines of at most LEGEND_WIDTH characters when long. */
function legendName(label: string): string {
  if (label.length <= LONG_LABEL) return label;
  const lines: string[] = [];
  for (const part of label.split(/(?<=,) /)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + part.length <= LEGEND_WIDTH) lines[last] += ` ${part}`;
    else lines.push(part);
  }
  return lines.join('<br>');
}

/** The legend of an overlay figure and the room it needs, by the length of its runs' labels. */
function legendFor(data: Trace[]): Record<string, unknown> {
  const names = data.map((trace) => String(trace.name ?? ''));
  if (names.every((name) => name.length <= LONG_LABEL)) {
    return { legend: { ...LEGEND_RIGHT, title: { text: 'run' } }, height: Math.max(380, 160 + LEGEND_LINE * names.length) };
  }
  // Below the x-axis title, a run per row (each entry the legend's full width); the plot keeps its height.
  const lines = names.reduce((sum, name) => sum + name.split('<br>').length, 0);
  const below = 40 + 16 * lines + 6 * names.length;
  return {
    legend: { ...LEGEND_BOTTOM, entrywidth: 1, entrywidthmode: 'fraction', title: { text: 'run', side: 'top' } },
    margin: { t: 78, r: 24, b: 56 + below, l: 64 },
    height: 380 + below,
  };
}

/** The training range every run shares, or null when they differ. */
function sharedRange(runs: RunData[]): [number, number] | null {
  const ranges = runs.map(trainingRange);
  const first = ranges[0];
  return first && ranges.every((r) => r && r[0] === first[0] && r[1] === first[1]) ? first : null;
}

/**
 * Training loss of every run against the step (`by: 'step'`) or against training time in minutes (`by: 'time'`):
 * runs whose steps cost different times (another width, batch or backend) are compared at equal compute only on
 * the second.
 */
export function compareLossFigure(runs: RunData[], labels: string[], by: 'step' | 'time' = 'step'): FigureSpec | null {
  const data: Trace[] = [];
  const x = (r: MetricsRecord) => (by === 'step' ? r.step : Number((r.elapsed_s / 60).toPrecision(4)));
  let binnedAny = false;
  runs.forEach((run, i) => {
    const binned = bins(run.metrics.filter((r) => Number.isFinite(r.loss) && (by === 'step' || Number.isFinite(r.elapsed_s))));
    if (binned.length === 0) return;
    const size = binned[0].length;
    binnedAny ||= size > 1;
    const last = binned.map((bin) => bin.at(-1)!);
    const where = by === 'step' ? 'step %{x}' : '%{x:.1f} min (step %{customdata})';
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: legendName(labels[i]),
      x: last.map(x),
      y: binned.map((bin) => Number(mean(bin.map((r) => r.loss)).toPrecision(4))),
      ...(by === 'time' ? { customdata: last.map((r) => r.step) } : {}),
      line: { color: color(i), width: 1.5 },
      hovertemplate: `${labels[i]}<br>${where}, loss %{y:.4f}${size > 1 ? ` (mean of ${size} logged steps)` : ''}<extra></extra>`,
    });
  });
  if (data.length === 0) return null;
  const subtitle = [
    by === 'time' ? 'minutes of training (elapsed_s): compare runs timed on one machine' : null,
    binnedAny ? 'long logs drawn as means of consecutive steps (the hover says how many)' : null,
  ].filter(Boolean);
  return {
    id: by === 'step' ? 'compare-loss' : 'compare-loss-by-time',
    data,
    layout: baseLayout(
      by === 'step' ? 'Training loss' : 'Training loss by training time',
      subtitle.length > 0 ? subtitle.join('; ') : null,
      {
        xaxis: axis(by === 'step' ? 'training step' : 'training time (minutes)'),
        yaxis: axis('loss (nats per token, log scale)', { type: 'log' }),
        ...legendFor(data),
      },
    ),
  };
}

/** Held-out exact match by step pooled over the trained lengths (`which: 'in'`) or the longer ones. */
export function compareAccuracyFigure(runs: RunData[], labels: string[], which: 'in' | 'beyond'): FigureSpec | null {
  const data: Trace[] = [];
  runs.forEach((run, i) => {
    const evals = evaluations(run.metrics);
    const values = evals.map((r) => percent(which === 'in' ? r.accuracy_in_range : r.accuracy_beyond));
    if (values.every((v) => v === null)) return;
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: legendName(labels[i]),
      x: evals.map((r) => r.step),
      y: values,
      line: { color: color(i), width: 2 },
      marker: { size: 5 },
      hovertemplate: `${labels[i]}<br>step %{x}: %{y:.1f}%<extra></extra>`,
    });
  });
  if (data.length === 0) return null;
  const range = sharedRange(runs);
  const where =
    which === 'in'
      ? `inside the training range${range ? ` (${range[0]}–${range[1]} digits)` : ''}`
      : `beyond the training range${range ? ` (over ${range[1]} digits)` : ''}`;
  return {
    id: which === 'in' ? 'compare-in-range' : 'compare-beyond',
    data,
    layout: baseLayout(`Held-out exact match ${where}`, 'mean over the held-out test lengths, at each evaluation', {
      xaxis: axis('training step'),
      yaxis: axis('exact match (%)', { range: [-2, 102] }),
      ...legendFor(data),
    }),
  };
}

/** Exact match against operand length, one line per run: where each run's accuracy falls off. */
export function compareByLengthFigure(runs: RunData[], labels: string[]): FigureSpec | null {
  const data: Trace[] = [];
  const sources = new Set<string>();
  runs.forEach((run, i) => {
    const byLength = finalByLength(run);
    if (!byLength) return;
    sources.add(byLength.source);
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: legendName(labels[i]),
      x: byLength.lengths,
      y: byLength.accuracy.map(percent),
      line: { color: color(i), width: 2 },
      marker: { size: 6 },
      hovertemplate: `${labels[i]}<br>%{x} digits: %{y:.1f}%<extra></extra>`,
    });
  });
  if (data.length === 0) return null;
  const range = sharedRange(runs);
  return {
    id: 'compare-by-length',
    data,
    layout: baseLayout(
      'Exact match by operand length at the end of training',
      `both operands n digits; from ${[...sources].join(' or ')}${range ? '; shaded: trained lengths' : ''}`,
      {
        xaxis: axis('operand length (digits)', { dtick: 1 }),
        yaxis: axis('exact match (%)', { range: [-2, 102] }),
        shapes: range
          ? [
              {
                type: 'rect',
                xref: 'x',
                yref: 'paper',
                x0: range[0] - 0.5,
                x1: range[1] + 0.5,
                y0: 0,
                y1: 1,
                fillcolor: 'rgba(44,127,184,0.10)',
                line: { width: 0 },
                layer: 'below',
              },
            ]
          : [],
        ...legendFor(data),
      },
    ),
  };
}

/**
 * The length grids side by side, one panel per probed run, on one colour scale. A probe at listed lengths has no
 * grid (its diagonal is in the by-length figure).
 */
export function compareGridsFigure(runs: RunData[], labels: string[]): FigureSpec | null {
  const probed = runs.map((run, i) => ({ length: run.probes.length, label: labels[i] })).filter((p) => p.length && !p.length.lengths);
  if (probed.length === 0) return null;
  const columns = Math.min(3, probed.length);
  const rows = Math.ceil(probed.length / columns);
  const data: Trace[] = [];
  const layout: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  const shapes: Record<string, unknown>[] = [];
  probed.forEach(({ length, label }, i) => {
    const suffix = i === 0 ? '' : String(i + 1);
    const n = length!.maxDigits;
    const lengths = Array.from({ length: n }, (_, k) => k + 1);
    data.push({
      type: 'heatmap',
      x: lengths,
      y: lengths,
      z: length!.accuracy.map((row) => row.map(percent)),
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
      coloraxis: 'coloraxis',
      xgap: 1,
      ygap: 1,
      hovertemplate: `${label}<br>a: %{y} digits, b: %{x} digits<br>exact match %{z:.1f}%<extra></extra>`,
    });
    const row = Math.floor(i / columns);
    layout[`xaxis${suffix}`] = {
      dtick: n > 12 ? 2 : 1,
      showgrid: false,
      constrain: 'domain',
      ...(row === rows - 1 || i + columns >= probed.length ? { title: { text: 'digits of b', font: { size: 11 } } } : {}),
    };
    // Square cells, whatever the number of panels.
    layout[`yaxis${suffix}`] = {
      dtick: n > 12 ? 2 : 1,
      showgrid: false,
      scaleanchor: `x${suffix}`,
      constrain: 'domain',
      ...(i % columns === 0 ? { title: { text: 'digits of a', font: { size: 11 } } } : {}),
    };
    const [lo, hi] = length!.trainDigits;
    shapes.push({
      type: 'rect',
      xref: `x${suffix}`,
      yref: `y${suffix}`,
      x0: lo - 0.5,
      x1: hi + 0.5,
      y0: lo - 0.5,
      y1: hi + 0.5,
      line: { color: '#e8112d', width: 2 },
    });
    annotations.push(subplotTitle(label, suffix, 4));
  });
  // Wide enough for the title even with one panel.
  const width = Math.max(600, columns * 250 + 180);
  return {
    id: 'compare-grids',
    data,
    width,
    layout: baseLayout('Length grids: exact match by digits of a × digits of b', 'length probe of each run; red outline: trained lengths', {
      ...layout,
      annotations,
      shapes,
      grid: { rows, columns, pattern: 'independent', xgap: 0.14, ygap: 0.26 },
      coloraxis: {
        colorscale: 'Viridis',
        cmin: 0,
        cmax: 100,
        colorbar: { title: { text: 'exact match (%)', side: 'right' }, thickness: 14 },
      },
      height: rows * 300 + 120,
      width,
      margin: { t: 100, r: 24, b: 64, l: 72 },
    }),
  };
}

export function compareFigures(runs: RunData[], labels = runLabels(runs)): FigureSpec[] {
  return [
    compareByLengthFigure(runs, labels),
    compareGridsFigure(runs, labels),
    compareAccuracyFigure(runs, labels, 'in'),
    compareAccuracyFigure(runs, labels, 'beyond'),
    compareLossFigure(runs, labels),
    compareLossFigure(runs, labels, 'time'),
  ].filter((figure): figure is FigureSpec => figure !== null);
}
