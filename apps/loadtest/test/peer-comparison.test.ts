import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { comparisonTable, PEER_TARGETS, writeBenchmarksSection } from '../src/bench-peers';
import type { RunResult } from '../src/result';
import { fixtureResult } from './helpers/result-fixture';

function ingest(updatesPerSecond: number, saturated = false): RunResult {
  return fixtureResult({
    scenario: 'ingest',
    figures: [
      { key: 'all_seen_ms', label: '', value: (10000 / updatesPerSecond) * 1000, unit: 'ms' },
      { key: 'updates_per_second', label: '', value: updatesPerSecond, unit: '/s' },
    ],
    saturation: { saturated, reasons: saturated ? ['x'] : [] },
  });
}

describe('peer comparison table', () => {
  it('divides this cluster by the best peer, in the right direction per figure', () => {
    const results = new Map<string, RunResult>([
      ['diaryx-sync2/ingest', ingest(5000)],
      ['diaryx-yjs/ingest', ingest(2500, true)],
      ['y-websocket/ingest', ingest(4000)],
      ['hocuspocus/ingest', ingest(2000)],
    ]);
    const table = comparisonTable(results, PEER_TARGETS);
    const perSecond = table.split('\n').find((l) => l.startsWith('| ingest 10k: updates per second'))!;
    // best peer = y-websocket 4000/s (higher is better): 5000/4000 and 2500/4000
    expect(perSecond).toMatch(/\| 1\.25× \| 0\.63× \|$/);
    expect(perSecond).toContain('2,500/s †'); // saturated run marked
    const allSeen = table.split('\n').find((l) => l.startsWith('| ingest 10k: second client has all'))!;
    // best peer = y-websocket 2500 ms (lower is better): 2000/2500 and 4000/2500
    expect(allSeen).toMatch(/\| 0\.80× \| 1\.60× \|$/);
    expect(table.split('\n').find((l) => l.startsWith('| coldload'))).toContain('n/a');
  });

  it('reports server CPU per delivery and the machine’s Redis + PostgreSQL CPU for the fan-out runs', () => {
    const fanout = (cores: number, perSecond: number): RunResult => {
      const base = fixtureResult({
        figures: [{ key: 'deliveries_per_second', label: '', value: perSecond, unit: '/s' }],
      });
      return {
        ...base,
        server: { ...base.server, services: [{ ...base.server.services[0]!, cpuCores: cores }] },
      };
    };
    const results = new Map<string, RunResult>([
      ['diaryx-sync2/fanout-100x10x2', fanout(0.9, 18000)],
      ['y-websocket/fanout-100x10x2', fanout(0.36, 18000)],
    ]);
    const rows = comparisonTable(results, PEER_TARGETS).split('\n');
    const perDelivery = rows.find((l) => l.startsWith('| fanout-100x10x2: server CPU per delivery'))!;
    // 0.9 core / 18,000 per second = 50 µs; y-websocket 20 µs
    expect(perDelivery).toContain('| 50 µs |');
    expect(perDelivery).toMatch(/\| 2\.50× \| - \|$/);
    const backing = rows.find((l) => l.startsWith('| fanout-100x10x2: Redis + PostgreSQL CPU'))!;
    expect(backing).toContain('30 % core');
  });

  it('replaces only the marked section of docs/benchmarks.md', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'benchmarks.md');
    fs.writeFileSync(file, '# Benchmarks\n\nkeep me\n');
    writeBenchmarksSection(file, 'first');
    writeBenchmarksSection(file, 'second');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('keep me');
    expect(text).toContain('second');
    expect(text).not.toContain('first');
    expect(text.match(/bench:peers:begin/g)).toHaveLength(1);
  });
});
