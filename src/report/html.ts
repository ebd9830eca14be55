import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { FigureSpec } from './figures.ts';
import { pageFigures, type Block, type ReportPage, type Section, type TableSpec } from './page.ts';

/**
 * Renders a ReportPage as one HTML file that opens offline: the figure specs travel as JSON in the page and
 * plotly.js (plotly.js-dist-min) is inlined, so opening the file makes no network request at all.
 */

const require = createRequire(import.meta.url);
let plotlySource: string | null = null;

/** The minified plotly bundle (read once per process: `train --report` renders at every evaluation). */
export function plotlyBundle(): string {
  plotlySource ??= fs.readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  return plotlySource;
}

/**
 * Whether a script can sit inline as is: `</script` would end the element early, and `<!--` followed by
 * `<script` switches the HTML parser into a state where `</script>` no longer ends it.
 */
export function inlineSafe(source: string): boolean {
  return !/<\/script/i.test(source) && !(/<!--/.test(source) && /<script/i.test(source));
}

export const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** JSON inside a `<script>` element: `<` escaped so no string in the data can close the element. */
export const scriptJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/** Notes may quote commands in `backticks`; those become <code>. */
const noteHtml = (text: string) => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');

function tableHtml(table: TableSpec): string {
  const numeric = new Set(table.numeric ?? []);
  // Long paths and config values may break after / - _ , (and only there) instead of widening the table.
  const text = (value: string | number | null) =>
    escapeHtml(value === null || value === undefined ? '–' : String(value)).replace(/([/_,]|-(?=\D))/g, '$1<wbr>');
  const cell = (value: string | number | null, column: number, tag: 'td' | 'th') =>
    `<${tag}${numeric.has(column) ? ' class="num"' : ''}>${text(value)}</${tag}>`;
  const head = table.columns.some((c) => c !== '')
    ? `<thead><tr>${table.columns.map((c, i) => cell(c, i, 'th')).join('')}</tr></thead>`
    : '';
  const body = table.rows.map((row) => `<tr>${row.map((value, i) => cell(value, i, 'td')).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table>${table.caption ? `<caption>${escapeHtml(table.caption)}</caption>` : ''}${head}<tbody>\n${body}\n</tbody></table></div>`;
}

function figureHtml(figure: FigureSpec): string {
  const height = Number(figure.layout.height ?? 360);
  const style = `height:${height}px${figure.width ? `;width:${figure.width}px` : ''}`;
  return `<div class="figure"><div class="plot" id="figure-${escapeHtml(figure.id)}" data-figure="${escapeHtml(figure.id)}" data-traces="${figure.data.length}" style="${style}"></div></div>`;
}

function blockHtml(block: Block): string {
  if (block.kind === 'figure') return figureHtml(block.figure);
  if (block.kind === 'table') return tableHtml(block.table);
  return `<p class="note">${noteHtml(block.text)}</p>`;
}

const sectionHtml = (section: Section) =>
  `<section id="${escapeHtml(section.id)}"><h2>${escapeHtml(section.heading)}</h2>\n${section.blocks.map(blockHtml).join('\n')}\n</section>`;

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2329;background:#f4f5f7}
header{padding:14px 24px;background:#fff;border-bottom:1px solid #dde1e6}
h1{margin:0 0 4px;font-size:20px;overflow-wrap:anywhere}
header p{margin:0;color:#555}
nav{margin-top:8px;font-size:13px}
nav a{margin-right:14px;color:#1f5fa8;text-decoration:none}
.page{display:grid;grid-template-columns:minmax(0,1fr) 360px;gap:18px;padding:16px 24px;max-width:1600px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:10px 16px 6px;margin-bottom:16px;min-width:0}
h2{font-size:16px;margin:4px 0 8px}
.figure{margin:6px 0 14px;overflow-x:auto}
.plot{width:100%}
.note{color:#444;background:#f7f8fa;border-left:3px solid #9ab;padding:6px 10px;margin:8px 0}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef0f3;padding:1px 4px;border-radius:3px;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;margin:4px 0 12px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
caption{text-align:left;font-weight:600;padding:2px 0 6px}
th,td{padding:3px 8px;border-bottom:1px solid #eceef1;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f7f8fa;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
aside td:first-child{color:#555;white-space:nowrap}
aside td:last-child{overflow-wrap:anywhere}
@media (max-width:1150px){.page{grid-template-columns:minmax(0,1fr)}}
`;

const RENDER = `
(function () {
  var figures = JSON.parse(document.getElementById('report-figures').textContent);
  var drawing = figures.map(function (figure) {
    var element = document.getElementById('figure-' + figure.id);
    try {
      return Promise.resolve(Plotly.newPlot(element, figure.data, figure.layout, { displaylogo: false, responsive: true }));
    } catch (error) {
      element.textContent = 'Could not draw this figure: ' + error.message;
      console.error('figure ' + figure.id + ': ' + error.message);
      return Promise.resolve();
    }
  });
  Promise.all(drawing).then(function () { document.body.setAttribute('data-rendered', String(figures.length)); });
})();
`;

export interface RenderOptions {
  /** Script source for plotly: inline by default; a file name to reference a copy beside the page instead. */
  plotlySrc?: string;
}

export function renderHtml(page: ReportPage, options: RenderOptions = {}): string {
  const figures = pageFigures(page);
  const plotly = options.plotlySrc ? `<script src="${escapeHtml(options.plotlySrc)}"></script>` : `<script>${plotlyBundle()}</script>`;
  const nav = page.sections.map((s) => `<a href="#${escapeHtml(s.id)}">${escapeHtml(s.heading)}</a>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · arith-lab report</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.subtitle)}</p><nav>${nav}</nav></header>
<div class="page">
<main>
${page.sections.map(sectionHtml).join('\n')}
</main>
<aside>
${page.aside.map(sectionHtml).join('\n')}
</aside>
</div>
${plotly}
<script type="application/json" id="report-figures">${scriptJson(figures)}</script>
<script>${RENDER}</script>
</body>
</html>
`;
}
