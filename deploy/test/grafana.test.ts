/**
 * The Grafana dashboard only queries metrics that exist (the libs/runtime catalogue, prom-client
 * defaults, Prometheus' `up`), covers every area issue 6 lists, is generated reproducibly, and its
 * panels do not overlap.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  METRIC_NAMES,
  type MetricService,
  SERVICE_METRIC_GROUPS,
  createMetricsRegistry,
} from '@diaryx-sync/runtime';
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
/** Metric names each service really exports (its registry, prom-client defaults included). */
const EXPORTED: Record<MetricService, Set<string>> = Object.fromEntries(
  (Object.keys(SERVICE_METRIC_GROUPS) as MetricService[]).map((service) => {
    const m = createMetricsRegistry({ service });
    return [service, new Set(m.registry.getMetricsAsArray().map((x) => x.name))];
  }),
) as Record<MetricService, Set<string>>;
/** Base metric names of one PromQL expression (label names, functions, strings removed). */
function metricsOf(expr: string): string[] {
  const withoutStrings = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring) \([^)]*\)/g, '');
  return [...withoutStrings.matchAll(/[a-z_][a-z0-9_]*/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w))
    .map((w) => {
      const all = new Set(Object.values(EXPORTED).flatMap((x) => [...x]));
      return HISTOGRAM_SUFFIXES.reduce(
        (n, suffix) =>
          n.endsWith(suffix) && all.has(n.slice(0, -suffix.length)) ? n.slice(0, -suffix.length) : n,
        w,
      );
    });
}
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
  'topk',
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

  it('every query uses metrics that the services exporting them really export (and job/service selectors agree)', () => {
    const problems: string[] = [];
    for (const expr of exprs) {
      const scoped = /(?:job|service)="([\w-]+)"/.exec(expr)?.[1] as MetricService | undefined;
      for (const name of metricsOf(expr)) {
        if (name === 'up') continue;
        const exporters = (Object.keys(EXPORTED) as MetricService[]).filter((s) => EXPORTED[s].has(name));
        if (exporters.length === 0) problems.push(`${name} is exported by no service: ${expr}`);
        if (scoped && scoped in EXPORTED && !EXPORTED[scoped].has(name))
          problems.push(`${name} is not exported by ${scoped}: ${expr}`);
      }
    }
    expect(problems).toEqual([]);
    // The check can fail: a doc-service metric scoped to the gateway is caught.
    expect(EXPORTED.gateway.has(METRIC_NAMES.shardsOwned)).toBe(false);
    expect(EXPORTED['doc-service'].has(METRIC_NAMES.shardsOwned)).toBe(true);
    expect(metricsOf('sum by (le) (rate(diaryx_update_stage_seconds_bucket[5m]))')).toEqual([
      'diaryx_update_stage_seconds',
    ]);
  });

  it('queries only known metrics, through the provisioned Prometheus datasource', () => {
    const known = new Set<string>(Object.values(METRIC_NAMES));
    const unknown: string[] = [];
    for (const expr of exprs)
      for (const name of metricsOf(expr))
        if (!known.has(name) && name !== 'up' && !/^(process|nodejs)_/.test(name))
          unknown.push(`${name} in ${expr}`);
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
    for (const name of Object.values(METRIC_NAMES)) expect([name, all.includes(name)]).toEqual([name, true]);
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
