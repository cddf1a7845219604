import { renderHtmlReport } from '../src/report/html';
import { renderSummary } from '../src/report/summary';
import { barChart, lineChart } from '../src/report/svg';
import { fixtureResult } from './helpers/result-fixture';

/** data-points of every chart, in order. */
function chartPoints(html: string): number[] {
  return [...html.matchAll(/<svg [^>]*class="chart" data-points="(\d+)"/g)].map((m) => Number(m[1]));
}

describe('HTML report', () => {
  it('is one self-contained file: no scripts, no external resources', () => {
    const html = renderHtmlReport(fixtureResult());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('has a histogram, throughput, latency, machine and server charts, all with data', () => {
    const html = renderHtmlReport(fixtureResult());
    const points = chartPoints(html);
    expect(points).toHaveLength(6);
    for (const p of points) expect(p).toBeGreaterThan(0);
    expect(html).toContain('latency per second');
    expect(html).toContain('server CPU per process');
    expect(html).toContain('load average');
  });

  it('says PASS / not saturated, or FAIL and saturated with the reasons', () => {
    const good = renderHtmlReport(fixtureResult());
    expect(good).toMatch(/id="result">PASS/);
    expect(good).toMatch(/Not saturated/);
    const bad = renderHtmlReport(
      fixtureResult({
        ok: false,
        failures: ['3 deliveries missing'],
        saturation: { saturated: true, reasons: ['load generator event-loop delay p99 40.0 ms > 10 ms'] },
      }),
    );
    expect(bad).toMatch(/id="result">FAIL: 3 deliveries missing/);
    expect(bad).toMatch(/Saturated: load generator event-loop delay p99 40\.0 ms/);
  });

  it('escapes text from the run', () => {
    const html = renderHtmlReport(fixtureResult());
    expect(html).toContain('diaryx-sync /sync2 &lt;local&gt;');
    expect(html).not.toContain('<local>');
  });

  it('renders a run without latency samples with empty charts that say so', () => {
    const html = renderHtmlReport(fixtureResult({ latency: null, histogram: [], timeline: [] }));
    expect(html).toContain('no data in this run');
  });
});

describe('summary table', () => {
  it('lists latency, figures, loss, convergence, server, machine, verdict and result', () => {
    const text = renderSummary(
      fixtureResult({
        ok: false,
        failures: ['replicas diverged in 1 docs'],
        saturation: { saturated: true, reasons: ['machine CPU 95 % busy > 90 %'] },
      }),
    );
    expect(text).toMatch(/latency\s+p50 [\d.]+ \/ p90 [\d.]+ \/ p99 [\d.]+/);
    expect(text).toMatch(/deliveries per second\s+40 \/s/);
    expect(text).toMatch(/deliveries\s+1,200 of 1,200 expected \(zero loss\)/);
    expect(text).toMatch(/convergence\s+clients equal in 2\/2 docs/);
    expect(text).toMatch(/server gateway\s+30 % of a core/);
    expect(text).toMatch(/verdict\s+SATURATED: machine CPU 95 %/);
    expect(text).toMatch(/result\s+FAIL: replicas diverged in 1 docs/);
  });
});

describe('svg charts', () => {
  it('plot every finite point and break lines at gaps', () => {
    const svg = lineChart(
      [
        {
          name: 'p99',
          color: '#000',
          points: [
            [0, 1],
            [1, NaN],
            [2, 3],
            [3, 4],
          ],
        },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y' },
    );
    expect(svg).toContain('data-points="3"');
    const d = /<path d="([^"]+)"/.exec(svg)![1];
    expect(d.match(/M/g)).toHaveLength(2);
    expect(d.match(/L/g)).toHaveLength(1);
  });

  it('draw one bar per bucket', () => {
    const svg = barChart(
      [
        { label: 'a', value: 1 },
        { label: 'b', value: 0 },
        { label: 'c', value: 5 },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y' },
    );
    expect(svg.match(/class="bar"/g)).toHaveLength(3);
    expect(svg).toContain('data-points="2"');
  });
});
