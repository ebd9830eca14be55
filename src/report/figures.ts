import type { AttentionPrompt, AttentionResult } from '../probes/attention.ts';
import type { Bucketing, CarriesResult } from '../probes/carries.ts';
import type { DigitsResult } from '../probes/digits.ts';
import type { LengthAtStep } from '../probes/duringTraining.ts';
import type { LengthResult } from '../probes/length.ts';
import type { MetricsRecord, ProbeMeta } from '../runs/records.ts';
import { configValue, trainingRange, type RunData } from './readRun.ts';

/**
 * Plotly figure specs for one run, as plain JSON: pure functions of a run's data, testable without a browser.
 * The page hands each spec to `Plotly.newPlot(div, data, layout)` unchanged. Accuracies are drawn in percent.
 */

export type Trace = Record<string, unknown>;

export interface FigureSpec {
  /** Stable element id on the page, e.g. `loss`, `attention-1`. */
  id: string;
  data: Trace[];
  layout: Record<string, unknown>;
  /** Pixel width for figures wider than the page column (many attention heads); otherwise it fills the column. */
  width?: number;
}

/** Plotly's category10: distinct, colour-blind-tolerant hues for runs. */
export const RUN_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Fraction to percent, rounded to 0.1 (the page never needs more, and the JSON stays small). */
export const percent = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 1000) / 10;

/** Four significant digits: enough for a curve, a third of the bytes of a full double. */
const significant = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);

/**
 * Most points a loss line draws. A longer log is cut into consecutive bins of equal size and each bin drawn as
 * one point: at its last record's step, with the mean of its values. Picking every k-th record instead would
 * draw one batch's noise at every point; a bin's mean has the noise of k batches averaged (1/√k of it), so runs
 * of different lengths can be told apart by their trend. 500 points are still finer than a plot's pixels.
 */
const LOSS_POINTS = 500;

/** Consecutive bins of equal size (the last may be shorter), at most `max` of them; each record in one bin. */
export function bins<T>(records: T[], max = LOSS_POINTS): T[][] {
  const size = Math.max(1, Math.ceil(records.length / max));
  const out: T[][] = [];
  for (let i = 0; i < records.length; i += size) out.push(records.slice(i, i + size));
  return out;
}

export const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** "each point the mean of k logged steps" when the log was binned, else null. */
function binNote(binned: unknown[][]): string | null {
  const size = binned[0]?.length ?? 1;
  return size > 1 ? `each point the mean of ${size} logged steps` : null;
}

export const axis = (title: string, extra: Record<string, unknown> = {}) => ({ title: { text: title }, automargin: true, ...extra });

export function baseLayout(title: string, subtitle: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: {
      text: title,
      x: 0,
      xref: 'paper',
      xanchor: 'left',
      font: { size: 15 },
      ...(subtitle ? { subtitle: { text: subtitle, font: { size: 11, color: '#555' } } } : {}),
    },
    margin: { t: subtitle ? 78 : 56, r: 24, b: 56, l: 64 },
    height: 360,
    font: { family: 'system-ui, -apple-system, "Segoe UI", sans-serif', size: 12 },
    hovermode: 'closest',
    paper_bgcolor: '#fff',
    plot_bgcolor: '#fff',
    ...extra,
  };
}

/** Right of the plot: plotly widens the right margin to fit it, so it never covers the plot or axis titles. */
export const LEGEND_RIGHT = { x: 1.02, xanchor: 'left', y: 1, yanchor: 'top' };
/** At the bottom edge of the figure (not of the plot), below the x-axis title; needs a bottom margin of ~100 px. */
export const LEGEND_BOTTOM = { orientation: 'h', xref: 'container', yref: 'container', x: 0.02, xanchor: 'left', y: 0, yanchor: 'bottom' };

/** A small title centred above subplot `suffix` (plotly's axis suffix: '', '2', ...). */
export function subplotTitle(text: string, suffix: string, yshift: number): Record<string, unknown> {
  return {
    text,
    xref: `x${suffix} domain`,
    yref: `y${suffix} domain`,
    x: 0.5,
    y: 1,
    xanchor: 'center',
    yanchor: 'bottom',
    yshift,
    showarrow: false,
    font: { size: 11 },
  };
}

/** Trained lengths in blues, longer ones in oranges to reds, darker as the length grows. */
export function lengthColor(n: number, range: [number, number] | null, longest: number): string {
  const mix = (from: number[], to: number[], t: number) =>
    `#${from
      .map((c, i) =>
        Math.round(c + (to[i] - c) * t)
          .toString(16)
          .padStart(2, '0'),
      )
      .join('')}`;
  const inRange = range === null || (n >= range[0] && n <= range[1]);
  if (inRange) {
    const [lo, hi] = range ?? [1, longest];
    return mix([0x9e, 0xca, 0xe1], [0x08, 0x30, 0x6b], hi === lo ? 1 : (n - lo) / (hi - lo));
  }
  const first = (range?.[1] ?? 0) + 1;
  return mix([0xfd, 0xae, 0x6b], [0x7f, 0x00, 0x00], longest <= first ? 0 : (n - first) / (longest - first));
}

export const isTrained = (n: number, range: [number, number] | null) => range !== null && n >= range[0] && n <= range[1];

export const lengthName = (n: number, range: [number, number] | null) =>
  `${n} digit${n === 1 ? '' : 's'}${isTrained(n, range) ? ' (trained)' : range ? ' (beyond)' : ''}`;

export const rangeText = (range: [number, number]) => (range[0] === range[1] ? `${range[0]} digits` : `${range[0]}–${range[1]} digits`);

export const evaluations = (metrics: MetricsRecord[]) => metrics.filter((r) => r.accuracy && Object.keys(r.accuracy).length > 0);

/** Loss on the left axis (log scale), learning rate on the right. */
export function lossFigure(run: RunData): FigureSpec | null {
  const binned = bins(run.metrics.filter((r) => Number.isFinite(r.loss)));
  if (binned.length === 0) return null;
  const steps = binned.map((bin) => bin.at(-1)!.step);
  const lossOn = configValue(run.config, 'train.loss_on');
  const logged = `logged every ${configValue(run.config, 'train.log_every') ?? '?'} steps`;
  return {
    id: 'loss',
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        name: 'training loss',
        x: steps,
        y: binned.map((bin) => significant(mean(bin.map((r) => r.loss)))),
        line: { color: '#1f77b4', width: 1.5 },
        hovertemplate: 'step %{x}<br>loss %{y:.4f}<extra></extra>',
      },
      ...auxLossTrace(run.metrics),
      {
        type: 'scatter',
        mode: 'lines',
        name: 'learning rate',
        x: steps,
        y: binned.map((bin) => significant(bin.at(-1)!.lr)),
        yaxis: 'y2',
        line: { color: '#ff7f0e', width: 1.5, dash: 'dot' },
        hovertemplate: 'step %{x}<br>lr %{y:.2e}<extra></extra>',
      },
    ],
    layout: baseLayout(
      'Training loss and learning rate',
      [`loss on ${lossOn === 'all' ? 'every token' : 'answer tokens'}`, logged, binNote(binned)].filter(Boolean).join(', '),
      {
        xaxis: axis('training step'),
        yaxis: axis('loss (nats per token, log scale)', { type: 'log' }),
        // tickmode auto: an overlaying axis otherwise syncs its ticks to the loss axis grid (odd values like 0.000983).
        yaxis2: axis('learning rate', {
          overlaying: 'y',
          side: 'right',
          showgrid: false,
          tickmode: 'auto',
          nticks: 6,
          tickformat: '.1e',
          rangemode: 'tozero',
        }),
        legend: LEGEND_BOTTOM,
        margin: { t: 78, r: 72, b: 100, l: 72 },
        height: 380,
      },
    ),
  };
}

/** The running-sum auxiliary loss (train.aux_loss) on the loss axis, when the run logged one; binned as the loss. */
function auxLossTrace(records: MetricsRecord[]) {
  const binned = bins(records.filter((r) => r.aux_loss !== undefined && Number.isFinite(r.aux_loss)));
  if (binned.length === 0) return [];
  return [
    {
      type: 'scatter',
      mode: 'lines',
      name: 'auxiliary loss (running sum, before its weight)',
      x: binned.map((bin) => bin.at(-1)!.step),
      y: binned.map((bin) => significant(mean(bin.map((r) => r.aux_loss!)))),
      line: { color: '#2ca02c', width: 1 },
      hovertemplate: 'step %{x}<br>auxiliary loss %{y:.4f}<extra></extra>',
    },
  ];
}

/** Held-out exact match by step, one line per test length: sudden jumps are the phase transitions. */
export function accuracyByStepFigure(run: RunData): FigureSpec | null {
  const evals = evaluations(run.metrics);
  if (evals.length === 0) return null;
  const range = trainingRange(run);
  const lengths = [...new Set(evals.flatMap((r) => Object.keys(r.accuracy!).map(Number)))].sort((a, b) => a - b);
  const longest = Math.max(...lengths);
  const evalSize = configValue(run.config, 'train.eval_size');
  const steps = evals.map((r) => r.step);
  // train.ema: `accuracy` is the weight average's; the online weights' line beside it shows what averaging adds.
  const averaged = evals.some((r) => r.online_accuracy);
  const online = averaged
    ? lengths.map((n) => ({
        ...accuracyByStepTrace(
          n,
          range,
          longest,
          steps,
          evals.map((r) => percent(r.online_accuracy?.[String(n)])),
        ),
        name: `${lengthName(n, range)}, online weights`,
        line: { color: lengthColor(n, range, longest), width: 1, dash: 'dot' },
      }))
    : [];
  return {
    id: 'accuracy-by-step',
    data: [
      ...lengths.map((n) =>
        accuracyByStepTrace(
          n,
          range,
          longest,
          steps,
          evals.map((r) => percent(r.accuracy![String(n)])),
        ),
      ),
      ...online,
    ],
    layout: baseLayout(
      'Held-out exact match by training step, per operand length',
      `both operands n digits; ${evalSize ?? '?'} problems per length at each evaluation, the full held-out set at the end${averaged ? '; solid: the weight average (train.ema), dotted: the online weights' : ''}`,
      {
        xaxis: axis('training step'),
        yaxis: axis('exact match (%)', { range: [-2, 102] }),
        legend: { ...LEGEND_RIGHT, title: { text: 'operand length' } },
        height: 400,
      },
    ),
  };
}

/** One operand length's accuracy against training step: solid inside the trained range, dashed beyond. */
function accuracyByStepTrace(
  n: number,
  range: ReturnType<typeof trainingRange>,
  longest: number,
  steps: number[],
  accuracy: (number | null)[],
) {
  return {
    type: 'scatter',
    mode: 'lines+markers',
    name: lengthName(n, range),
    x: steps,
    y: accuracy,
    line: { color: lengthColor(n, range, longest), width: 2, dash: isTrained(n, range) || !range ? 'solid' : 'dash' },
    marker: { size: 5 },
    hovertemplate: `${n} digit${n === 1 ? '' : 's'}, step %{x}<br>exact match %{y:.1f}%<extra></extra>`,
  };
}

/** `train.probe_every`: the length probe's diagonal against step, reaching past the test lengths. */
export function lengthByStepFigure(run: RunData): FigureSpec | null {
  const lines: LengthAtStep[] = run.lengthByStep.filter((l) => Array.isArray(l.diagonal));
  if (lines.length === 0) return null;
  const range = trainingRange(run);
  const lengths = [...new Set(lines.flatMap((l) => l.diagonal.map((c) => c.digitsA)))].sort((a, b) => a - b);
  const longest = Math.max(...lengths);
  return {
    id: 'length-by-step',
    data: lengths.map((n) =>
      accuracyByStepTrace(
        n,
        range,
        longest,
        lines.map((l) => l.step),
        lines.map((l) => percent(l.diagonal.find((c) => c.digitsA === n)?.accuracy)),
      ),
    ),
    layout: baseLayout(
      'Length probe during training: exact match by operand length',
      `probes/length-by-step.jsonl: ${lines.at(-1)!.samples} problems per length, every ${configValue(run.config, 'train.probe_every') ?? '?'} steps`,
      {
        xaxis: axis('training step'),
        yaxis: axis('exact match (%)', { range: [-2, 102] }),
        legend: { ...LEGEND_RIGHT, title: { text: 'operand length' } },
        height: 400,
      },
    ),
  };
}

export const probeStep = (meta: ProbeMeta) => (meta.step === null || meta.step === undefined ? 'probed' : `checkpoint step ${meta.step}`);

/**
 * A length probe at listed lengths (`probe --lengths`) measured only equal operand lengths: exact match against
 * the length, on a linear axis so gaps between the lengths show; trained lengths shaded.
 */
export function lengthDiagonalFigure(length: LengthResult & ProbeMeta, id = 'length-grid'): FigureSpec {
  const [lo, hi] = length.trainDigits;
  const capped = length.maxDigitsLimit ? `; capped at ${length.maxDigits} digits` : '';
  const x = length.diagonal.map((c) => c.digitsA);
  return {
    id,
    data: [
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: 'exact match',
        x,
        y: length.diagonal.map((c) => percent(c.accuracy)),
        marker: { size: 7, color: length.diagonal.map((c) => (c.inTrainingRange ? '#2c7fb8' : '#e6550d')) },
        line: { color: '#7f7f7f', width: 1.5 },
        hovertemplate: 'both operands %{x} digits<br>exact match %{y:.1f}%<extra></extra>',
      },
    ],
    layout: baseLayout(
      'Exact match by operand length (both operands n digits)',
      `${probeStep(length)}, ${length.samples} problems per length; shaded: trained lengths (${rangeText([lo, hi])})${capped}`,
      {
        xaxis: axis('digits of each operand', { range: [0, Math.max(...x, hi) + 1] }),
        yaxis: axis('exact match (%)', { range: [-2, 102] }),
        shapes: [
          {
            type: 'rect',
            xref: 'x',
            yref: 'paper',
            x0: lo - 0.5,
            x1: hi + 0.5,
            y0: 0,
            y1: 1,
            fillcolor: '#2c7fb8',
            opacity: 0.12,
            line: { width: 0 },
          },
        ],
        height: 400,
      },
    ),
  };
}

/** The (digits of a) x (digits of b) grid; the trained lengths outlined. Listed lengths draw their diagonal instead. */
export function lengthGridFigure(length: LengthResult & ProbeMeta, id = 'length-grid'): FigureSpec {
  if (length.lengths) return lengthDiagonalFigure(length, id);
  const n = length.maxDigits;
  const lengths = Array.from({ length: n }, (_, i) => i + 1);
  const [lo, hi] = length.trainDigits;
  // The reason for a cap is a long sentence: the page prints it beside the figure (page.ts).
  const capped = length.maxDigitsLimit ? `; capped at ${n} digits` : '';
  const side = Math.min(620, 140 + n * 44);
  const subtitle = `${probeStep(length)}, ${length.samples} problems per cell; red outline: trained lengths (${rangeText([lo, hi])})${capped}`;
  // Square cells make a narrow figure; it still has to be as wide as its subtitle (about 6 px a character).
  const width = Math.round(Math.max(side + 220, 110 + 6.2 * subtitle.length));
  return {
    id,
    data: [
      {
        type: 'heatmap',
        x: lengths,
        y: lengths,
        z: length.accuracy.map((row) => row.map(percent)),
        zmin: 0,
        zmax: 100,
        colorscale: 'Viridis',
        xgap: 1,
        ygap: 1,
        ...(n <= 12 ? { texttemplate: '%{z:.0f}', textfont: { size: n <= 8 ? 12 : 10 } } : {}),
        colorbar: { title: { text: 'exact match (%)', side: 'right' }, thickness: 14 },
        hovertemplate: 'a: %{y} digits, b: %{x} digits<br>exact match %{z:.1f}%<extra></extra>',
      },
    ],
    layout: baseLayout('Exact match by operand lengths', subtitle, {
      xaxis: axis('digits of b', { dtick: 1, constrain: 'domain', showgrid: false }),
      yaxis: axis('digits of a', { dtick: 1, scaleanchor: 'x', constrain: 'domain', showgrid: false }),
      shapes: [
        {
          type: 'rect',
          xref: 'x',
          yref: 'y',
          x0: lo - 0.5,
          x1: hi + 0.5,
          y0: lo - 0.5,
          y1: hi + 0.5,
          line: { color: '#e8112d', width: 3 },
        },
      ],
      height: side + 40,
      width,
    }),
    width,
  };
}

/** Accuracy of each answer digit, grouped by position, one bar per operand length. */
export function digitsFigure(digits: DigitsResult & ProbeMeta, range: [number, number] | null): FigureSpec {
  const lengths = digits.lengths.filter((l) => l.positions.length > 0);
  const longest = Math.max(1, ...lengths.map((l) => l.digits));
  return {
    id: 'digits',
    data: lengths.map((l) => ({
      type: 'bar',
      name: lengthName(l.digits, range),
      x: l.positions.map((p) => p.position),
      y: l.positions.map((p) => percent(p.accuracy)),
      customdata: l.positions.map((p) => p.count),
      marker: { color: lengthColor(l.digits, range, longest) },
      hovertemplate: `${l.digits}-digit operands, answer digit %{x}<br>%{y:.1f}% of %{customdata}<extra></extra>`,
    })),
    layout: baseLayout(
      'Accuracy of each answer digit, per operand length',
      `${probeStep(digits)}, ${digits.samples} problems per length; position 0 is the units digit (the format writes the answer ${digits.answerOrder})`,
      {
        barmode: 'group',
        bargap: 0.18,
        xaxis: axis('answer digit position (0 = units)', { dtick: 1 }),
        yaxis: axis('digit accuracy (%)', { range: [0, 100] }),
        legend: { ...LEGEND_RIGHT, title: { text: 'operand length' } },
        height: 400,
      },
    ),
  };
}

const BUCKETING_TITLES: Record<string, string> = {
  carries: 'number of carrying columns',
  'longest-chain': 'longest carry chain',
  'nonzero-partial-products': 'nonzero partial products',
};

/** Exact match by carry bucket (or partial products), pooled over trained and over longer lengths. */
export function carriesFigures(carries: CarriesResult & ProbeMeta): FigureSpec[] {
  return carries.bucketings.map((bucketing: Bucketing) => {
    const trained = bucketing.lengths.filter((l) => l.inTrainingRange).map((l) => l.digits);
    const beyond = bucketing.lengths.filter((l) => !l.inTrainingRange).map((l) => l.digits);
    const span = (ns: number[]) => (ns.length ? rangeText([Math.min(...ns), Math.max(...ns)]) : '');
    const groups = [
      { name: `trained lengths (${span(trained)})`, buckets: bucketing.inRange, color: '#2c7fb8' },
      { name: `longer lengths (${span(beyond)})`, buckets: bucketing.beyond, color: '#e6550d' },
    ].filter((g) => g.buckets.some((b) => b.count > 0));
    return {
      id: `carries-${bucketing.name}`,
      data: groups.map((g) => ({
        type: 'bar',
        name: g.name,
        x: g.buckets.map((b) => b.value),
        y: g.buckets.map((b) => percent(b.accuracy)),
        customdata: g.buckets.map((b) => b.count),
        marker: { color: g.color },
        hovertemplate: `${bucketing.name} %{x}<br>exact match %{y:.1f}% of %{customdata} problems<extra></extra>`,
      })),
      layout: baseLayout(
        `Exact match by ${BUCKETING_TITLES[bucketing.name] ?? bucketing.name.replace(/-/g, ' ')}`,
        `${probeStep(carries)}; ${(carries.sampling ?? '`samples` problems per bucket and length').replace(/`samples`/g, String(carries.samples)).replace(/`/g, '')}`,
        {
          barmode: 'group',
          xaxis: axis(bucketing.description, { dtick: 1 }),
          yaxis: axis('exact match (%)', { range: [0, 100] }),
          legend: { ...LEGEND_RIGHT, title: { text: 'pooled over' } },
          height: 360,
        },
      ),
    };
  });
}

/** Tokens as tick labels: plotly reads `<...>` as markup, and blanks would be invisible. */
export function tokenLabel(token: string): string {
  if (token === '<bos>') return 'BOS';
  if (token === '<eos>') return 'EOS';
  if (token === ' ') return '␣';
  if (token === '\n') return '⏎';
  return token.replace(/</g, '‹').replace(/>/g, '›').replace(/&/g, '＆');
}

/** One figure per probed prompt: a layers x heads grid of attention patterns (query rows, key columns). */
export function attentionFigure(prompt: AttentionPrompt, index: number, meta: ProbeMeta): FigureSpec {
  const layers = prompt.layers.length;
  const heads = Math.max(1, ...prompt.layers.map((l) => l.heads.length));
  const tokens = prompt.tokens.map(tokenLabel);
  const ticks = prompt.tokens.map((_, i) => i);
  // Every token labelled while they fit; past that every k-th.
  const every = Math.max(1, Math.ceil(tokens.length / 24));
  const tickvals = ticks.filter((i) => i % every === 0);
  const ticktext = tickvals.map((i) => tokens[i]);
  const cell = 210;
  const data: Trace[] = [];
  const layout: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  const shapes: Record<string, unknown>[] = [];
  // Where the answer starts: rows below the line are the queries that write the answer.
  const boundary = prompt.promptLength - 0.5;
  for (const { layer, heads: headList } of prompt.layers) {
    for (const { head, pattern } of headList) {
      const k = layer * heads + head + 1;
      const suffix = k === 1 ? '' : String(k);
      data.push({
        type: 'heatmap',
        // Two decimals draw the same picture and halve the bytes of a big model's maps.
        z: pattern.map((row) => row.map((w) => Math.round(w * 100) / 100)),
        x: ticks,
        y: ticks,
        xaxis: `x${suffix}`,
        yaxis: `y${suffix}`,
        coloraxis: 'coloraxis',
        hovertemplate: `layer ${layer} head ${head}<br>query %{y} → key %{x}<br>weight %{z:.2f}<extra></extra>`,
      });
      const bottom = layer === layers - 1;
      const left = head === 0;
      layout[`xaxis${suffix}`] = {
        tickvals,
        ticktext,
        // Upright labels of one character; BOS and hint symbols are wider than a cell, so every label stands on end.
        tickangle: ticktext.some((t) => t.length > 1) ? -90 : 0,
        tickfont: { size: 9 },
        showticklabels: bottom,
        showgrid: false,
        ...(bottom ? { title: { text: 'key token', font: { size: 11 } } } : {}),
      };
      layout[`yaxis${suffix}`] = {
        tickvals,
        ticktext,
        tickfont: { size: 9 },
        autorange: 'reversed',
        showticklabels: left,
        showgrid: false,
        ...(left ? { title: { text: 'query token', font: { size: 11 } } } : {}),
      };
      const line = { color: '#d62728', width: 1, dash: 'dot' };
      shapes.push(
        { type: 'line', xref: `x${suffix}`, yref: `y${suffix} domain`, x0: boundary, x1: boundary, y0: 0, y1: 1, line },
        { type: 'line', xref: `x${suffix} domain`, yref: `y${suffix}`, x0: 0, x1: 1, y0: boundary, y1: boundary, line },
      );
      annotations.push(subplotTitle(`layer ${layer} · head ${head}`, suffix, 2));
    }
  }
  const verdict = prompt.correct ? 'answered right' : `answered ${JSON.stringify(prompt.output)}, wrong`;
  const width = heads > 4 ? heads * cell + 160 : undefined;
  return {
    id: `attention-${index}`,
    data,
    width,
    layout: baseLayout(
      `Attention on ${prompt.problem} (${prompt.digits} digit${prompt.digits === 1 ? '' : 's'}, ${prompt.inTrainingRange ? 'a trained length' : 'beyond training'}; ${verdict})`,
      `${probeStep(meta)}, teacher-forced; rows: query tokens (each predicts the next), columns: keys; dotted: where the answer starts`,
      {
        ...layout,
        annotations,
        shapes,
        grid: { rows: layers, columns: heads, pattern: 'independent', xgap: 0.1, ygap: layers > 1 ? 0.22 : 0.1 },
        coloraxis: {
          colorscale: [
            [0, '#ffffff'],
            [0.5, '#6baed6'],
            [1, '#08306b'],
          ],
          cmin: 0,
          cmax: 1,
          colorbar: { title: { text: 'attention weight', side: 'right' }, thickness: 12 },
        },
        height: layers * (cell + 40) + 150,
        ...(width ? { width } : {}),
        margin: { t: 112, r: 24, b: 64, l: 72 },
      },
    ),
  };
}

export function attentionFigures(attention: AttentionResult & ProbeMeta): FigureSpec[] {
  return attention.prompts.map((prompt, i) => attentionFigure(prompt, i, attention));
}
