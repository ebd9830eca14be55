import type { LinearResult } from '../probes/linear.ts';
import { activationLabel } from '../probes/activationNames.ts';
import type { ReadoutResult } from '../probes/readout.ts';
import type { ProbeMeta } from '../runs/records.ts';
import { axis, baseLayout, LEGEND_RIGHT, percent, probeStep, type FigureSpec } from './figures.ts';

/**
 * Figures of what the residual stream holds (the `linear` and `readout` probes): plain Plotly specs, like
 * figures.ts, for the running sum ĉ_k of Bai et al. 2025's analysis.
 */

/** R² of the ridge probe of ĉ_k, activation (rows) by answer column k, the error in units on hover. */
export function linearFigure(linear: LinearResult & ProbeMeta): FigureSpec {
  const scores = linear.scores.filter((s) => s.quantity === 'running_sum');
  const activations = [...new Set(scores.map((s) => s.activation))];
  const ks = [...new Set(scores.map((s) => s.k))].sort((a, b) => a - b);
  const cell = (activation: string, k: number) => scores.find((s) => s.activation === activation && s.k === k);
  return {
    id: 'linear',
    data: [
      {
        type: 'heatmap',
        x: ks,
        y: activations.map(activationLabel),
        z: activations.map((a) => ks.map((k) => cell(a, k)?.score ?? null)),
        customdata: activations.map((a) => ks.map((k) => cell(a, k)?.rmse ?? null)),
        zmin: 0,
        zmax: 1,
        colorscale: 'Viridis',
        xgap: 1,
        ygap: 1,
        texttemplate: '%{z:.2f}',
        colorbar: { title: { text: 'R²', side: 'right' }, thickness: 14 },
        hovertemplate: '%{y}, column %{x}<br>R² %{z:.3f}, error %{customdata:.2f} units<extra></extra>',
      },
    ],
    layout: baseLayout(
      'Running sum ĉ_k read linearly from the residual stream (R²)',
      `${probeStep(linear)}, ${linear.digits}-digit operands, ridge fitted on ${linear.trainProblems} problems and scored on ${linear.testProblems}; column 0 is the units`,
      {
        xaxis: axis('answer column k (0 = units)', { dtick: 1, showgrid: false }),
        yaxis: axis('activation', { autorange: 'reversed', showgrid: false }),
        height: 160 + 48 * activations.length,
      },
    ),
  };
}

/**
 * By the size of ĉ_k: the share of answer positions whose linear read of ĉ_k rounds right (one line per
 * activation) against the share whose digit the model writes right. Where the last read stays high and the digit
 * falls, the model holds the sum and fails to write its last digit.
 */
export function readoutFigure(readout: ReadoutResult & ProbeMeta): FigureSpec {
  const x = readout.bins.map((b) => `${b.from}-${b.to}`);
  const positions = readout.bins.map((b) => b.positions);
  const dashes = ['dot', 'dash', 'dashdot', 'longdash'];
  return {
    id: 'readout',
    data: [
      ...readout.activations.map((activation, a) => ({
        type: 'scatter',
        mode: 'lines+markers',
        name: `ĉ_k read ${activationLabel(activation)}`,
        x,
        y: readout.bins.map((b) => percent(b.sumRead[a])),
        customdata: positions,
        line: { dash: dashes[a % dashes.length], width: 1.5 },
        hovertemplate: `ĉ_k %{x}: read ${activationLabel(activation)} rounds right on %{y:.1f}% of %{customdata}<extra></extra>`,
      })),
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: 'digit written right',
        x,
        y: readout.bins.map((b) => percent(b.digitWritten)),
        customdata: positions,
        line: { color: '#d62728', width: 3 },
        hovertemplate: 'ĉ_k %{x}: digit right on %{y:.1f}% of %{customdata}<extra></extra>',
      },
    ],
    layout: baseLayout(
      'The running sum held against the digit written, by the size of ĉ_k',
      `${probeStep(readout)}, ${readout.digits}-digit operands, teacher-forced; ${readout.testProblems} problems scored (half uniform, half from the upper tail)`,
      {
        xaxis: axis('ĉ_k, the running sum of the column', { type: 'category' }),
        yaxis: axis('answer positions (%)', { range: [0, 102] }),
        legend: { ...LEGEND_RIGHT },
        height: 400,
      },
    ),
  };
}
