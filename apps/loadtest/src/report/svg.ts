/**
 * Minimal inline SVG charts for the self-contained HTML report (no scripts, no CDN): a line
 * chart of per-second series and a bar chart of a histogram.
 */

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export interface Series {
  name: string;
  color: string;
  /** [x, y] points; non-finite y values break the line. */
  points: Array<[number, number]>;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Second y axis is not supported; use separate charts. */
  yMin?: number;
}

const PAD = { left: 60, right: 16, top: 28, bottom: 40 };

/** "Nice" tick step for a range. */
function niceStep(range: number, ticks: number): number {
  if (!(range > 0)) return 1;
  const raw = range / ticks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

function tickLabel(v: number): string {
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 2 : 1);
}

/** A horizontal grid line at `py` across the plot (`w` wide) with its tick label on the left. */
function yGridLine(py: number, label: string, w: number): string {
  return (
    `<line x1="${PAD.left}" x2="${PAD.left + w}" y1="${py.toFixed(1)}" y2="${py.toFixed(1)}" class="grid"/>` +
    `<text x="${PAD.left - 6}" y="${(py + 4).toFixed(1)}" text-anchor="end">${label}</text>`
  );
}

/** The frame of a `w` × `h` plot, its axis labels and the chart title. */
function frameAndTitles(
  o: Pick<ChartOptions, 'title' | 'xLabel' | 'yLabel'> & { height: number },
  w: number,
  h: number,
): string {
  return (
    `<rect x="${PAD.left}" y="${PAD.top}" width="${w}" height="${h}" class="frame"/>` +
    `<text x="${PAD.left + w / 2}" y="${o.height - 6}" text-anchor="middle" class="label">${escapeHtml(o.xLabel)}</text>` +
    `<text x="14" y="${PAD.top + h / 2}" text-anchor="middle" class="label" transform="rotate(-90 14 ${PAD.top + h / 2})">${escapeHtml(o.yLabel)}</text>` +
    `<text x="${PAD.left}" y="18" class="title">${escapeHtml(o.title)}</text>`
  );
}

function axes(
  o: Required<Omit<ChartOptions, 'yMin'>>,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
): string {
  const w = o.width - PAD.left - PAD.right;
  const h = o.height - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * w;
  const sy = (y: number) => PAD.top + h - ((y - y0) / (y1 - y0 || 1)) * h;
  const parts: string[] = [];
  const ys = niceStep(y1 - y0, 5);
  for (let y = Math.ceil(y0 / ys) * ys; y <= y1 + 1e-9; y += ys) {
    parts.push(yGridLine(sy(y), tickLabel(y), w));
  }
  const xs = Math.max(1, niceStep(x1 - x0, 8));
  for (let x = Math.ceil(x0 / xs) * xs; x <= x1 + 1e-9; x += xs) {
    parts.push(
      `<text x="${sx(x).toFixed(1)}" y="${PAD.top + h + 16}" text-anchor="middle">${tickLabel(x)}</text>`,
    );
  }
  parts.push(frameAndTitles(o, w, h));
  return parts.join('');
}

/** A line chart; returns an `<svg>` element as a string (with `data-points` = plotted points). */
export function lineChart(series: Series[], options: ChartOptions): string {
  const o = { width: 860, height: 260, ...options };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return emptyChart(o);
  const x0 = Math.min(...all.map((p) => p[0]));
  const x1 = Math.max(...all.map((p) => p[0]));
  const y0 = Math.min(o.yMin ?? 0, ...all.map((p) => p[1]));
  const y1 = Math.max(...all.map((p) => p[1])) * 1.05 || 1;
  const w = o.width - PAD.left - PAD.right;
  const h = o.height - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * w;
  const sy = (y: number) => PAD.top + h - ((y - y0) / (y1 - y0 || 1)) * h;
  const lines = series.map((s) => {
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
      pen = true;
    }
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"><title>${escapeHtml(s.name)}</title></path>`;
  });
  const legend = series
    .map(
      (s, i) =>
        `<g transform="translate(${o.width - PAD.right - 170},${PAD.top + 8 + i * 16})"><rect width="12" height="4" y="-4" fill="${s.color}"/><text x="18" y="0">${escapeHtml(s.name)}</text></g>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${o.width} ${o.height}" width="${o.width}" height="${o.height}" class="chart" data-points="${all.length}">${axes(o, x0, x1, y0, y1)}${lines.join('')}${legend}</svg>`;
}

export interface Bar {
  label: string;
  value: number;
}

/** A bar chart (histogram); `data-points` = bars with a non-zero value. */
export function barChart(bars: Bar[], options: ChartOptions): string {
  const o = { width: 860, height: 260, ...options };
  const nonZero = bars.filter((b) => b.value > 0).length;
  if (nonZero === 0) return emptyChart(o);
  const max = Math.max(...bars.map((b) => b.value)) * 1.05;
  const w = o.width - PAD.left - PAD.right;
  const h = o.height - PAD.top - PAD.bottom;
  const bw = w / bars.length;
  const parts: string[] = [];
  const ys = niceStep(max, 5);
  for (let y = 0; y <= max + 1e-9; y += ys) {
    const py = PAD.top + h - (y / max) * h;
    parts.push(yGridLine(py, tickLabel(y), w));
  }
  const every = Math.max(1, Math.ceil(bars.length / 12));
  bars.forEach((b, i) => {
    const bh = (b.value / max) * h;
    const x = PAD.left + i * bw;
    parts.push(
      `<rect x="${(x + 1).toFixed(1)}" y="${(PAD.top + h - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" class="bar"><title>${escapeHtml(b.label)}: ${b.value}</title></rect>`,
    );
    if (i % every === 0)
      parts.push(
        `<text x="${(x + bw / 2).toFixed(1)}" y="${PAD.top + h + 16}" text-anchor="middle">${escapeHtml(b.label)}</text>`,
      );
  });
  parts.push(frameAndTitles(o, w, h));
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${o.width} ${o.height}" width="${o.width}" height="${o.height}" class="chart" data-points="${nonZero}">${parts.join('')}</svg>`;
}

function emptyChart(o: { title: string; width: number; height: number }): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${o.width} 60" width="${o.width}" height="60" class="chart" data-points="0"><text x="${PAD.left}" y="18" class="title">${escapeHtml(o.title)}</text><text x="${PAD.left}" y="44">no data in this run</text></svg>`;
}
