/**
 * Remote servers: `process_cpu_seconds_total` and `process_resident_memory_bytes` from each
 * service's Prometheus `/metrics`, read before and after a run.
 */

export interface MetricsReading {
  url: string;
  cpuSeconds: number;
  rssBytes: number;
}

/** Value of an unlabelled (or first labelled) sample of `name` in Prometheus text, NaN if absent. */
export function metricValue(text: string, name: string): number {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})? ([-+0-9.eE]+|NaN)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function readMetrics(url: string): Promise<MetricsReading> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    return {
      url,
      cpuSeconds: metricValue(text, 'process_cpu_seconds_total'),
      rssBytes: metricValue(text, 'process_resident_memory_bytes'),
    };
  } catch {
    return { url, cpuSeconds: NaN, rssBytes: NaN };
  }
}

export function readAllMetrics(urls: string[]): Promise<MetricsReading[]> {
  return Promise.all(urls.map(readMetrics));
}
