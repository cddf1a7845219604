/** The summary table printed at the end of a run. */
import type { RunResult } from '../result';
import { fmtBytes, fmtMs, fmtNumber, fmtPercent, fmtValue } from './format';

export function renderSummary(r: RunResult): string {
  const rows: Array<[string, string]> = [];
  const add = (k: string, v: string) => rows.push([k, v]);
  add('target', r.target.label);
  add(
    'parameters',
    Object.entries(r.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  );
  if (r.latency) {
    const l = r.latency;
    add(
      'latency',
      `p50 ${fmtMs(l.p50)} / p90 ${fmtMs(l.p90)} / p99 ${fmtMs(l.p99)} / p99.9 ${fmtMs(l.p999)} / max ${fmtMs(l.max)} ms (${fmtNumber(l.count)} samples)`,
    );
    add('  measured as', r.latencyMeaning);
  }
  for (const f of r.figures) add(f.label, fmtValue(f.value, f.unit));
  if (r.loss.editsSent > 0) {
    const l = r.loss;
    if (l.deliveriesExpected > 0) {
      add(
        'deliveries',
        `${fmtNumber(l.deliveriesReceived)} of ${fmtNumber(l.deliveriesExpected)} expected${l.missingDeliveries ? ` (MISSING ${fmtNumber(l.missingDeliveries)})` : ' (zero loss)'}${l.duplicateDeliveries ? `, ${l.duplicateDeliveries} duplicates` : ''}`,
      );
    }
    add(
      'updates lost',
      `${fmtNumber(l.lostEdits)} of ${fmtNumber(l.editsSent)} sent (absent from a fresh load)`,
    );
  }
  if (r.convergence) {
    const c = r.convergence;
    add(
      'convergence',
      `clients equal in ${c.convergedDocs}/${c.docs} docs, fresh load equal in ${c.freshMatchingDocs}/${c.docs}`,
    );
  }
  for (const s of r.server.services) {
    add(
      `server ${s.name}`,
      `${(s.cpuCores * 100).toFixed(0)} % of a core, RSS ${fmtBytes(s.rssStartBytes)} → ${fmtBytes(s.rssEndBytes)} (max ${fmtBytes(s.rssMaxBytes)})`,
    );
  }
  if (r.server.metrics) {
    r.server.metrics.after.forEach((a, i) => {
      const b = r.server.metrics!.before[i];
      add(
        `server ${a.url}`,
        `${fmtNumber(a.cpuSeconds - b.cpuSeconds)} CPU s, RSS ${fmtBytes(b.rssBytes)} → ${fmtBytes(a.rssBytes)}`,
      );
    });
  }
  add(
    'machine',
    `${r.machine.cpus} CPUs, CPU ${fmtPercent(r.machine.cpuBusyMean)} busy, load ${r.machine.loadavgStart[0].toFixed(2)} → ${r.machine.loadavgEnd[0].toFixed(2)}`,
  );
  if (r.machine.backing.length > 0)
    add(
      'Redis, PostgreSQL (machine)',
      r.machine.backing.map((b) => `${b.name} ${(b.cpuCores * 100).toFixed(0)} % of a core`).join(', '),
    );
  add(
    'load generator',
    `${r.generator.workers} worker thread(s), event-loop delay p99 ${fmtMs(r.generator.eventLoopDelayP99Ms)} ms, ${fmtNumber(r.generator.cpuSeconds)} CPU s`,
  );
  add(
    'verdict',
    r.saturation.saturated
      ? `SATURATED: ${r.saturation.reasons.join('; ')}`
      : "not saturated (the figures are the server's)",
  );
  add('result', r.ok ? 'PASS' : `FAIL: ${r.failures.join('; ')}`);
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `loadtest ${r.scenario}`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    ...r.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}
