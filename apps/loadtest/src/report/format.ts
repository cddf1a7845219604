/** Number formatting shared by the text summary and the HTML report. */

export function fmtMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function fmtBytes(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  const abs = Math.abs(v);
  if (abs >= 1 << 30) return `${(v / (1 << 30)).toFixed(2)} GiB`;
  if (abs >= 1 << 20) return `${(v / (1 << 20)).toFixed(1)} MiB`;
  if (abs >= 1 << 10) return `${(v / (1 << 10)).toFixed(1)} KiB`;
  return `${v.toFixed(0)} B`;
}

export function fmtNumber(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}

/** A figure's value with its unit. */
export function fmtValue(value: number, unit: string): string {
  if (unit === 'ms') return `${fmtMs(value)} ms`;
  if (unit === 'B') return fmtBytes(value);
  return `${fmtNumber(value)}${unit ? ` ${unit}` : ''}`;
}

export function fmtPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(0)} %` : '-';
}
