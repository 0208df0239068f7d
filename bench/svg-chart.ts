/**
 * Small SVG charts for the benchmark figures (docs/plots/): a line chart (optionally with a
 * log-scaled x axis) and a grouped bar chart. Plain SVG 1.1 text, no script, readable on GitHub
 * and in any browser; every label is XML-escaped.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Series {
  name: string;
  points: [number, number][];
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  /** Lower end of the y axis (default 0). */
  yMin?: number;
  yMax?: number;
}

export interface BarChart {
  title: string;
  yLabel: string;
  /** One group of bars per category, one bar per series in each. */
  categories: string[];
  series: { name: string; values: number[] }[];
  yMax?: number;
}

const WIDTH = 800;
const HEIGHT = 420;
const PAD = { left: 78, right: 250, top: 46, bottom: 62 };
const COLOURS = ['#1f6feb', '#d1242f', '#2da44e', '#bf8700', '#8250df', '#57606a'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Round ticks (steps of 1, 2 or 5 x 10^n), about `count` of them, from min up to the first tick
 * at or above max: the last tick is where an axis that shows max should end.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  const end = Math.ceil(max / step - 1e-9) * step;
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= end + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function formatNumber(v: number): string {
  if (Math.abs(v) >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (Math.abs(v) >= 1e4) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(4)));
}

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ${FONT} font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="26" font-size="15" font-weight="600" fill="#1f2328">${escape(title)}</text>`,
    `<text x="${PAD.left + (WIDTH - PAD.left - PAD.right) / 2}" y="${HEIGHT - 16}" text-anchor="middle" fill="#57606a">${escape(xLabel)}</text>`,
    `<text transform="translate(20 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#57606a">${escape(yLabel)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function legend(names: string[]): string[] {
  const x = WIDTH - PAD.right + 16;
  return names.flatMap((name, k) => [
    `<rect x="${x}" y="${PAD.top + k * 22}" width="14" height="14" rx="2" fill="${COLOURS[k % COLOURS.length]}"/>`,
    `<text x="${x + 20}" y="${PAD.top + k * 22 + 11}" fill="#1f2328">${escape(name)}</text>`,
  ]);
}

function yAxis(yMin: number, yMax: number, y: (v: number) => number): string[] {
  const x0 = PAD.left;
  const x1 = WIDTH - PAD.right;
  return niceTicks(yMin, yMax).flatMap((t) => [
    `<line x1="${x0}" x2="${x1}" y1="${y(t)}" y2="${y(t)}" stroke="#d0d7de" stroke-width="1"/>`,
    `<text x="${x0 - 8}" y="${y(t) + 4}" text-anchor="end" fill="#57606a">${formatNumber(t)}</text>`,
  ]);
}

export function lineChartSvg(chart: LineChart): string {
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1]));
  const tx = (v: number) => (chart.xLog ? Math.log10(v) : v);
  const [xMin, xMax] = [Math.min(...xs.map(tx)), Math.max(...xs.map(tx))];
  const yMin = chart.yMin ?? 0;
  const yMax = chart.yMax ?? niceTicks(yMin, Math.max(...ys)).at(-1)!;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (v: number) => +(PAD.left + ((tx(v) - xMin) / (xMax - xMin || 1)) * plotW).toFixed(1);
  const y = (v: number) => +(PAD.top + plotH - ((v - yMin) / (yMax - yMin || 1)) * plotH).toFixed(1);
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  const body = [
    ...yAxis(yMin, yMax, y),
    ...xTicks.map((t) => `<text x="${x(t)}" y="${PAD.top + plotH + 18}" text-anchor="middle" fill="#57606a">${formatNumber(t)}</text>`),
    `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#57606a"/>`,
    ...chart.series.flatMap((s, k) => {
      const colour = COLOURS[k % COLOURS.length];
      const pts = [...s.points].sort((a, b) => a[0] - b[0]);
      return [
        `<polyline fill="none" stroke="${colour}" stroke-width="2.5" points="${pts.map(([a, b]) => `${x(a)},${y(b)}`).join(' ')}"/>`,
        ...pts.map(([a, b]) => `<circle cx="${x(a)}" cy="${y(b)}" r="3.5" fill="${colour}"><title>${escape(`${s.name}: ${formatNumber(a)} -> ${formatNumber(b)}`)}</title></circle>`),
      ];
    }),
    ...legend(chart.series.map((s) => s.name)),
  ];
  return frame(chart.title, chart.xLabel, chart.yLabel, body);
}

export function barChartSvg(chart: BarChart): string {
  const values = chart.series.flatMap((s) => s.values);
  const yMax = chart.yMax ?? niceTicks(0, Math.max(...values)).at(-1)!;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const y = (v: number) => +(PAD.top + plotH - (v / (yMax || 1)) * plotH).toFixed(1);
  const group = plotW / chart.categories.length;
  const bar = (group * 0.75) / chart.series.length;
  const body = [
    ...yAxis(0, yMax, y),
    ...chart.categories.map((c, g) => `<text x="${(PAD.left + group * (g + 0.5)).toFixed(1)}" y="${PAD.top + plotH + 18}" text-anchor="middle" fill="#57606a">${escape(c)}</text>`),
    ...chart.series.flatMap((s, k) =>
      s.values.map((v, g) => {
        const left = PAD.left + group * g + group * 0.125 + bar * k;
        return `<rect x="${left.toFixed(1)}" y="${y(v)}" width="${(bar - 2).toFixed(1)}" height="${(PAD.top + plotH - y(v)).toFixed(1)}" fill="${COLOURS[k % COLOURS.length]}"><title>${escape(`${s.name}, ${chart.categories[g]}: ${formatNumber(v)}`)}</title></rect>`;
      }),
    ),
    `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#57606a"/>`,
    ...legend(chart.series.map((s) => s.name)),
  ];
  return frame(chart.title, '', chart.yLabel, body);
}

/** Writes an SVG under docs/plots/ and returns its path relative to the repository. */
export async function writePlot(name: string, svg: string): Promise<string> {
  const dir = path.join(import.meta.dirname, '..', 'docs', 'plots');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, name), svg);
  return `docs/plots/${name}`;
}
