/** A synthetic RunResult for report tests. */
import type { RunResult } from '../../src/result';
import { emptyLossTotals } from '../../src/stats/loss';
import { latencyHistogram, summarizeLatencies } from '../../src/stats/percentiles';

export function fixtureResult(overrides: Partial<RunResult> = {}): RunResult {
  const samples = Array.from({ length: 500 }, (_, i) => 1 + (i % 50) / 5);
  return {
    tool: 'diaryx-sync loadtest',
    scenario: 'fanout',
    target: {
      label: 'diaryx-sync /sync2 <local>',
      protocol: 'sync2',
      local: true,
      endpoints: ['ws://127.0.0.1:1'],
    },
    params: { docs: 2, clients_per_doc: 3 },
    startedAt: '2026-12-03T12:00:00.000Z',
    finishedAt: '2026-12-03T12:00:30.000Z',
    machine: {
      cpus: 2,
      cpuModel: 'Test CPU',
      memoryBytes: 8 * 2 ** 30,
      node: 'v20.20.2',
      platform: 'Linux',
      loadavgStart: [1, 1, 1],
      loadavgEnd: [2, 1, 1],
      cpuBusyMean: 0.5,
      backing: [
        { name: 'Redis', cpuCores: 0.1 },
        { name: 'PostgreSQL', cpuCores: 0.2 },
      ],
    },
    generator: { workers: 2, eventLoopDelayP99Ms: 2, eventLoopDelayMaxMs: 5, cpuSeconds: 1.5 },
    latency: summarizeLatencies(samples),
    latencyMeaning: 'edit sent → arrival at each other client',
    histogram: latencyHistogram(samples),
    timeline: Array.from({ length: 8 }, (_, i) => ({
      t: i - 2,
      sent: 100 + i,
      delivered: 200 + i,
      p50: 2 + i / 10,
      p99: 8 + i,
      errors: 0,
      drops: 0,
      generatorEventLoopDelayP99: 1 + i / 10,
      machineCpuBusy: 0.5,
      load1: 1.2,
    })),
    server: {
      source: 'proc',
      services: [
        {
          name: 'gateway',
          cpuSeconds: 3,
          cpuCores: 0.3,
          rssStartBytes: 100 << 20,
          rssEndBytes: 110 << 20,
          rssMaxBytes: 111 << 20,
          timeline: Array.from({ length: 6 }, (_, i) => ({ t: i, cpu: 0.3, rssBytes: (100 + i) << 20 })),
        },
      ],
      metrics: null,
    },
    loss: {
      ...emptyLossTotals(),
      editsSent: 600,
      deliveriesExpected: 1200,
      deliveriesReceived: 1200,
      lostEdits: 0,
    },
    convergence: { docs: 2, convergedDocs: 2, freshMatchingDocs: 2, examples: [] },
    figures: [{ key: 'deliveries_per_second', label: 'deliveries per second', value: 40, unit: '/s' }],
    saturation: { saturated: false, reasons: [] },
    failures: [],
    ok: true,
    notes: [],
    ...overrides,
  };
}
