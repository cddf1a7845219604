import { request } from 'node:http';
import { Registry } from 'prom-client';
import {
  FRAME_DROP_REASONS,
  METRIC_GROUPS,
  METRIC_NAMES,
  type MetricGroup,
  type MetricService,
  SERVICE_METRIC_GROUPS,
  createMetrics,
  createMetricsRegistry,
  observeStageSince,
  startOpsServer,
} from '@diaryx-sync/runtime';

function get(port: number, path: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metric catalogue', () => {
  it("registers the service's own metrics with the diaryx_ prefix, plus default metrics", async () => {
    const m = createMetricsRegistry({ service: 'gateway', instanceId: 'gw-1' });
    try {
      m.gateway.framesReceived.inc({ type: 'update' });
      observeStageSince(m, 'persisted', Date.now() - 25);
      const text = await m.registry.metrics();
      for (const name of Object.values(METRIC_NAMES)) expect(name.startsWith('diaryx_')).toBe(true);
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain('nodejs_eventloop_lag_p99_seconds'); // prom-client's, no duplicate of ours
      expect(text).not.toContain('diaryx_event_loop_delay');
      expect(text).toMatch(
        /diaryx_gateway_frames_received_total\{type="update",service="gateway",instance_id="gw-1"\} 1/,
      );
      const count = text.split('\n').find((l) => l.startsWith('diaryx_update_stage_seconds_count{'));
      expect(count).toContain('stage="persisted"');
      expect(count).toContain('instance_id="gw-1"');
      expect(count?.endsWith(' 1')).toBe(true);
    } finally {
      m.stop();
    }
  });

  it.each(Object.keys(SERVICE_METRIC_GROUPS) as MetricService[])(
    '%s exports exactly its own groups of the catalogue (no series of other services)',
    async (service) => {
      const m = createMetricsRegistry({ service, defaultMetrics: false });
      const exported = new Set(m.registry.getMetricsAsArray().map((x) => x.name));
      const own = new Set(SERVICE_METRIC_GROUPS[service]);
      const names = (group: MetricGroup) => {
        const g = m[group] as unknown as { name?: string } & Record<string, { name: string }>;
        return typeof g.name === 'string' ? [g.name] : Object.values(g).map((x) => x.name);
      };
      for (const group of METRIC_GROUPS)
        for (const name of names(group)) expect([name, exported.has(name)]).toEqual([name, own.has(group)]);
      expect(exported.has(METRIC_NAMES.buildInfo)).toBe(true);
      // Every catalogue name is exported by at least one service.
      const all = new Set(
        (Object.keys(SERVICE_METRIC_GROUPS) as MetricService[]).flatMap((s) =>
          createMetricsRegistry({ service: s, defaultMetrics: false })
            .registry.getMetricsAsArray()
            .map((x) => x.name),
        ),
      );
      for (const name of Object.values(METRIC_NAMES)) expect([name, all.has(name)]).toEqual([name, true]);
    },
  );

  it('is idempotent per registry and isolated between registries', () => {
    const r = new Registry();
    const a = createMetrics(r, { service: 'doc-service', defaultMetrics: false });
    const b = createMetrics(r, { service: 'doc-service', defaultMetrics: false });
    const c = createMetricsRegistry({ service: 'doc-service', defaultMetrics: false });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    a.stop();
    c.stop();
  });

  it('clamps negative stage latencies (clock skew) to zero', async () => {
    const m = createMetricsRegistry({ service: 'doc-service', defaultMetrics: false });
    observeStageSince(m, 'applied', Date.now() + 5000);
    const v = await m.updateStage.get();
    const sum = v.values.find((x) => x.metricName === 'diaryx_update_stage_seconds_sum');
    expect(sum?.value).toBe(0);
    m.stop();
  });
});

describe('ops server', () => {
  it('serves /healthz, /readyz (callback, timeout, draining), /metrics and 404', async () => {
    const m = createMetricsRegistry({ service: 'history-worker', defaultMetrics: false });
    let ready: boolean | 'hang' | 'throw' = false;
    const ops = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: m.registry,
      readyTimeoutMs: 200,
      ready: async () => {
        if (ready === 'hang') return new Promise<boolean>(() => undefined);
        if (ready === 'throw') throw new Error('redis down');
        return { ready, checks: { redis: ready } };
      },
    });
    try {
      expect(await get(ops.port, '/healthz')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
      let r = await get(ops.port, '/readyz');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body)).toMatchObject({ status: 'not_ready', checks: { redis: false } });
      ready = true;
      r = await get(ops.port, '/readyz');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ status: 'ready', ready: true });
      ready = 'hang';
      r = await get(ops.port, '/readyz');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).reason).toMatch(/timed out/);
      ready = 'throw';
      r = await get(ops.port, '/readyz?x=1');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).reason).toBe('redis down');
      const metrics = await get(ops.port, '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.type).toContain('text/plain');
      expect(metrics.body).toContain('diaryx_queue_depth');
      expect((await get(ops.port, '/nope')).status).toBe(404);
      ready = true;
      ops.setDraining();
      r = await get(ops.port, '/readyz');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.body).reason).toBe('draining');
    } finally {
      await ops.close();
      m.stop();
    }
  });
});

describe('frames dropped', () => {
  it('has a zero series for every drop reason on the gateway from the start', async () => {
    const m = createMetricsRegistry({ service: 'gateway', defaultMetrics: false });
    try {
      const text = await m.registry.metrics();
      for (const reason of FRAME_DROP_REASONS)
        expect(text).toMatch(
          new RegExp(`diaryx_gateway_frames_dropped_total\\{reason="${reason}"[^}]*\\} 0`),
        );
    } finally {
      m.stop();
    }
  });
});
