/**
 * The self-contained HTML report of a run: one file, no scripts, no external resources. Verdict
 * and result first, then the latency histogram, the per-second timelines (throughput, p50/p99,
 * generator event-loop delay, machine CPU and load), server CPU/RSS and every figure.
 */
import type { RunResult } from '../result';
import { fmtBytes, fmtMs, fmtNumber, fmtPercent, fmtValue } from './format';
import { barChart, escapeHtml, lineChart, type Series } from './svg';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf'];

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:920px;color:#222;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}
.pass{background:#e7f6e7;border:1px solid #8c8}.fail{background:#fde8e8;border:1px solid #d88}
.saturated{background:#fff4e0;border:1px solid #e0a040}.clean{background:#eef4fb;border:1px solid #9bd}
svg.chart{display:block;margin:8px 0;font-size:11px;background:#fff}svg .grid{stroke:#eee}svg .frame{fill:none;stroke:#bbb}
svg .bar{fill:#4a7fc1}svg .title{font-weight:600;font-size:13px}svg .label{fill:#555}.muted{color:#666}
`;

function table(rows: Array<[string, string]>, cls = ''): string {
  return `<table class="${cls}">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

export function renderHtmlReport(r: RunResult): string {
  const tl = r.timeline;
  const throughput: Series[] = [
    { name: 'edits sent /s', color: COLORS[0], points: tl.map((p) => [p.t, p.sent]) },
    { name: 'deliveries /s', color: COLORS[2], points: tl.map((p) => [p.t, p.delivered]) },
  ];
  const latency: Series[] = [
    { name: 'p50 (ms)', color: COLORS[0], points: tl.map((p) => [p.t, p.p50]) },
    { name: 'p99 (ms)', color: COLORS[1], points: tl.map((p) => [p.t, p.p99]) },
  ];
  const machine: Series[] = [
    { name: 'machine CPU busy (%)', color: COLORS[3], points: tl.map((p) => [p.t, p.machineCpuBusy * 100]) },
    { name: 'load average ×10', color: COLORS[4], points: tl.map((p) => [p.t, p.load1 * 10]) },
    {
      name: 'client loop p99 (ms)',
      color: COLORS[1],
      points: tl.map((p) => [p.t, p.generatorEventLoopDelayP99]),
    },
  ];
  const serverCpu: Series[] = r.server.services.map((s, i) => ({
    name: `${s.name} (% core)`,
    color: COLORS[i % COLORS.length],
    points: s.timeline.map((p) => [p.t, p.cpu * 100] as [number, number]),
  }));
  const serverRss: Series[] = r.server.services.map((s, i) => ({
    name: `${s.name} (MiB)`,
    color: COLORS[i % COLORS.length],
    points: s.timeline.map((p) => [p.t, p.rssBytes / (1 << 20)] as [number, number]),
  }));
  const hist = r.histogram.map((b) => ({
    label: b.to >= 10 ? b.to.toFixed(0) : b.to.toFixed(1),
    value: b.count,
  }));
  const l = r.latency;
  const summaryRows: Array<[string, string]> = [
    ['target', r.target.label],
    ['endpoints', r.target.endpoints.join(', ')],
    [
      'parameters',
      Object.entries(r.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
    ],
    ['started', `${r.startedAt} (finished ${r.finishedAt})`],
  ];
  if (l) {
    summaryRows.push([
      'latency',
      `p50 ${fmtMs(l.p50)} · p90 ${fmtMs(l.p90)} · p99 ${fmtMs(l.p99)} · p99.9 ${fmtMs(l.p999)} · max ${fmtMs(l.max)} ms (${fmtNumber(l.count)} samples)`,
    ]);
    summaryRows.push(['latency measured as', r.latencyMeaning]);
  }
  for (const f of r.figures) summaryRows.push([f.label, fmtValue(f.value, f.unit)]);
  if (r.loss.editsSent > 0) {
    summaryRows.push([
      'updates sent / lost',
      `${fmtNumber(r.loss.editsSent)} / ${fmtNumber(r.loss.lostEdits)}`,
    ]);
    if (r.loss.deliveriesExpected > 0) {
      summaryRows.push([
        'deliveries received / expected',
        `${fmtNumber(r.loss.deliveriesReceived)} / ${fmtNumber(r.loss.deliveriesExpected)} (missing ${fmtNumber(r.loss.missingDeliveries)}, duplicates ${fmtNumber(r.loss.duplicateDeliveries)})`,
      ]);
    }
  }
  if (r.convergence) {
    const c = r.convergence;
    summaryRows.push([
      'convergence',
      `clients equal in ${c.convergedDocs}/${c.docs} docs; a fresh load equal in ${c.freshMatchingDocs}/${c.docs}`,
    ]);
  }
  const serverTable =
    r.server.services.length > 0
      ? `<table><tr><th>process</th><th>CPU (share of one core)</th><th>CPU seconds</th><th>RSS start</th><th>RSS end</th><th>RSS max</th></tr>${r.server.services
          .map(
            (s) =>
              `<tr><td>${escapeHtml(s.name)}</td><td class="num">${(s.cpuCores * 100).toFixed(0)} %</td><td class="num">${s.cpuSeconds.toFixed(2)}</td><td class="num">${fmtBytes(s.rssStartBytes)}</td><td class="num">${fmtBytes(s.rssEndBytes)}</td><td class="num">${fmtBytes(s.rssMaxBytes)}</td></tr>`,
          )
          .join('')}</table>`
      : '';
  const metricsTable = r.server.metrics
    ? `<table><tr><th>/metrics</th><th>CPU seconds during the run</th><th>RSS before</th><th>RSS after</th></tr>${r.server.metrics.after
        .map((a, i) => {
          const b = r.server.metrics!.before[i];
          return `<tr><td>${escapeHtml(a.url)}</td><td class="num">${fmtNumber(a.cpuSeconds - b.cpuSeconds)}</td><td class="num">${fmtBytes(b.rssBytes)}</td><td class="num">${fmtBytes(a.rssBytes)}</td></tr>`;
        })
        .join('')}</table>`
    : '';
  const sat = r.saturation;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loadtest ${escapeHtml(r.scenario)} — ${escapeHtml(r.target.label)}</title>
<style>${STYLE}</style></head><body>
<h1>loadtest <code>${escapeHtml(r.scenario)}</code></h1>
<div class="muted">${escapeHtml(r.target.label)} · ${escapeHtml(r.startedAt)}</div>
<div class="verdict ${r.ok ? 'pass' : 'fail'}" id="result">${r.ok ? 'PASS' : `FAIL: ${escapeHtml(r.failures.join('; '))}`}</div>
<div class="verdict ${sat.saturated ? 'saturated' : 'clean'}" id="saturation">${
    sat.saturated
      ? `Saturated: ${escapeHtml(sat.reasons.join('; '))}. The load generator or the machine, not only the server, limited this run; do not read these figures as the server's capacity.`
      : "Not saturated: the load generator kept its schedule and the machine had CPU to spare, so the figures are the server's."
  }</div>
<h2>Summary</h2>
${table(summaryRows)}
<h2>Latency histogram</h2>
${barChart(hist, { title: `${r.latencyMeaning}`, xLabel: 'latency bucket upper bound (ms, log-spaced)', yLabel: 'samples' })}
<h2>Timeline</h2>
<p class="muted">Seconds since the measured window started (negative: warm-up).</p>
${lineChart(throughput, { title: 'throughput per second', xLabel: 's', yLabel: 'per second' })}
${lineChart(latency, { title: 'latency per second', xLabel: 's', yLabel: 'ms' })}
${lineChart(machine, { title: 'machine and load generator', xLabel: 's', yLabel: '% · load×10 · ms' })}
<h2>Server</h2>
${serverTable}${metricsTable}
${serverCpu.length ? lineChart(serverCpu, { title: 'server CPU per process', xLabel: 's', yLabel: '% of one core' }) : ''}
${serverRss.length ? lineChart(serverRss, { title: 'server RSS per process', xLabel: 's', yLabel: 'MiB' }) : ''}
<h2>Machine and load generator</h2>
${table([
  [
    'machine',
    `${r.machine.cpus} × ${r.machine.cpuModel}, ${fmtBytes(r.machine.memoryBytes)} RAM, ${r.machine.platform}, Node ${r.machine.node}`,
  ],
  [
    'load average (1/5/15 min)',
    `start ${r.machine.loadavgStart.map((v) => v.toFixed(2)).join(' / ')}, end ${r.machine.loadavgEnd.map((v) => v.toFixed(2)).join(' / ')}`,
  ],
  ['machine CPU busy (mean)', fmtPercent(r.machine.cpuBusyMean)],
  [
    'Redis, PostgreSQL on the machine (not in the server CPU)',
    r.machine.backing.map((b) => `${b.name} ${(b.cpuCores * 100).toFixed(0)} % of a core`).join(', '),
  ],
  [
    'load generator',
    `${r.generator.workers} worker thread(s), event-loop delay p99 ${fmtMs(r.generator.eventLoopDelayP99Ms)} ms (max ${fmtMs(r.generator.eventLoopDelayMaxMs)} ms), ${r.generator.cpuSeconds.toFixed(2)} CPU s`,
  ],
])}
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
${r.convergence && r.convergence.examples.length ? `<h2>Mismatches</h2><ul>${r.convergence.examples.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
<p class="muted">How to read this report: "Load testing" in the repository README and apps/loadtest/README.md.</p>
</body></html>
`;
}
