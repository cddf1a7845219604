/**
 * The Grafana dashboard only queries metrics that exist (the libs/runtime catalogue, prom-client
 * defaults, Prometheus' `up`), covers every area issue 6 lists, is generated reproducibly, and its
 * panels do not overlap.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METRIC_NAMES } from '@diaryx-sync/runtime';
import { ROOT } from './lib/apps';

interface Panel {
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { uid: string };
  targets?: { expr: string }[];
}

const file = path.join(ROOT, 'deploy/grafana/diaryx-sync.json');
const dashboard = JSON.parse(fs.readFileSync(file, 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
};
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];
const PROMQL_WORDS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'rate',
  'increase',
  'histogram_quantile',
  'by',
  'le',
  'without',
  'on',
  'ignoring',
]);

describe('deploy/grafana/diaryx-sync.json', () => {
  it('is what deploy/grafana/generate-dashboard.js produces', () => {
    const generated = execFileSync(
      process.execPath,
      [path.join(ROOT, 'deploy/grafana/generate-dashboard.js')],
      { encoding: 'utf8' },
    );
    expect(generated).toBe(fs.readFileSync(file, 'utf8'));
  });

  it('queries only known metrics, through the provisioned Prometheus datasource', () => {
    const known = new Set<string>(Object.values(METRIC_NAMES));
    const unknown: string[] = [];
    for (const expr of exprs) {
      const withoutStrings = expr
        .replace(/"[^"]*"/g, '""')
        .replace(/\{[^}]*\}/g, '')
        .replace(/\[[^\]]*\]/g, '');
      for (const m of withoutStrings.matchAll(/[a-z_][a-z0-9_]*/g)) {
        const word = m[0];
        if (
          PROMQL_WORDS.has(word) ||
          /^(service|instance_id|endpoint|type|code|reason|stage|event|queue|state|check|outcome|route|status|job|app)$/.test(
            word,
          )
        )
          continue;
        const base = HISTOGRAM_SUFFIXES.reduce(
          (n, s) => (n.endsWith(s) && known.has(n.slice(0, -s.length)) ? n.slice(0, -s.length) : n),
          word,
        );
        if (known.has(base) || base === 'up' || /^(process|nodejs)_/.test(base)) continue;
        unknown.push(`${word} in ${expr}`);
      }
    }
    expect(unknown).toEqual([]);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row'))
      expect(p.datasource?.uid).toBe('prometheus');
    const ds = fs.readFileSync(
      path.join(ROOT, 'deploy/grafana/provisioning/datasources/prometheus.yml'),
      'utf8',
    );
    expect(ds).toContain('uid: prometheus');
  });

  it('covers traffic, latency percentiles, errors, shards, queues and health', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(
      expect.arrayContaining(['Traffic', 'Latency', 'Errors', 'Shards', 'Queues', 'Health']),
    );
    const all = exprs.join('\n');
    for (const name of Object.values(METRIC_NAMES).filter((n) => n !== METRIC_NAMES.buildInfo))
      expect([name, all.includes(name)]).toEqual([name, true]);
    expect(all).toMatch(
      /histogram_quantile\(0\.99, sum by \(le, stage\) \(rate\(diaryx_update_stage_seconds_bucket/,
    );
  });

  it('lays panels out without overlaps inside the 24-column grid', () => {
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const key = `${i},${j}`;
          expect([p.title, cells.has(key)]).toEqual([p.title, false]);
          cells.add(key);
        }
      }
    }
  });
});
