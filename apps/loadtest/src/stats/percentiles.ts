/**
 * Percentiles and summaries of latency samples (milliseconds). Nearest-rank method: the p-th
 * percentile of n sorted samples is the value at rank ceil(p/100 · n) (1-based), so p99 of 100
 * samples is the 99th smallest and every reported value is a real sample.
 */

/** Summary of a set of latency samples; every figure is NaN when there are no samples. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** The p-th percentile (0 < p ≤ 100) of ascending `sorted` samples; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile: p must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Sorted copy of the samples (a Float64Array sorts numerically). */
export function sortedSamples(samples: ArrayLike<number>): Float64Array {
  return Float64Array.from(samples).sort();
}

/** count, mean, p50/p90/p99/p99.9 and max of the samples. */
export function summarizeLatencies(samples: ArrayLike<number>): LatencySummary {
  const sorted = sortedSamples(samples);
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? NaN : sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
  };
}

/** One bar of a latency histogram: samples with `from ≤ latency < to` (ms). */
export interface HistogramBucket {
  from: number;
  to: number;
  count: number;
}

/**
 * Latency histogram on log-spaced buckets (4 per power of ten from 0.1 ms up to the largest
 * sample), the shape that shows both the body and the tail of a latency distribution.
 */
export function latencyHistogram(samples: ArrayLike<number>, bucketsPerDecade = 4): HistogramBucket[] {
  if (samples.length === 0) return [];
  let max = 0;
  for (let i = 0; i < samples.length; i++) max = Math.max(max, samples[i]);
  const first = 0.1;
  const factor = Math.pow(10, 1 / bucketsPerDecade);
  const edges = [0, first];
  while (edges[edges.length - 1] <= max) edges.push(edges[edges.length - 1] * factor);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    const idx =
      v < first ? 0 : Math.min(counts.length - 1, 1 + Math.floor(Math.log(v / first) / Math.log(factor)));
    counts[idx]++;
  }
  return counts.map((count, i) => ({ from: edges[i], to: edges[i + 1], count }));
}
