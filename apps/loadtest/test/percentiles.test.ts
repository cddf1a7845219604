import { latencyHistogram, percentile, summarizeLatencies } from '../src/stats/percentiles';

describe('percentile (nearest rank)', () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it('returns a real sample at rank ceil(p/100 · n)', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0.5)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
  });

  it('is NaN for no samples and rejects p outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(hundred, 0)).toThrow(RangeError);
    expect(() => percentile(hundred, 101)).toThrow(RangeError);
  });

  it('summarizes unsorted samples', () => {
    const s = summarizeLatencies([5, 1, 4, 2, 3]);
    expect(s).toEqual({ count: 5, mean: 3, p50: 3, p90: 5, p99: 5, p999: 5, max: 5 });
    expect(summarizeLatencies([]).p99).toBeNaN();
  });

  it('the p99 of a tail-heavy distribution sees the tail', () => {
    const samples = [...Array.from({ length: 980 }, () => 1), ...Array.from({ length: 20 }, () => 100)];
    expect(summarizeLatencies(samples).p50).toBe(1);
    expect(summarizeLatencies(samples).p99).toBe(100);
  });
});

describe('latencyHistogram', () => {
  it('puts every sample in exactly one log-spaced bucket', () => {
    const samples = [0.05, 0.2, 1, 1.5, 9, 10, 11, 250];
    const buckets = latencyHistogram(samples);
    expect(buckets.reduce((a, b) => a + b.count, 0)).toBe(samples.length);
    for (const v of samples) {
      const owners = buckets.filter((b) => v >= b.from && v < b.to);
      expect(owners).toHaveLength(1);
      expect(owners[0].count).toBeGreaterThan(0);
    }
    expect(buckets[0].from).toBe(0);
    expect(buckets[buckets.length - 1].to).toBeGreaterThan(250);
    expect(latencyHistogram([])).toEqual([]);
  });
});
