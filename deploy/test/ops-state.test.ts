/** Unit tests of the `/ops` state builder (pure: heartbeats + table rows in, page JSON out). */
import { buildOpsState, type OpsInputs } from '../../apps/gateway/src/ops/ops-state';

const now = new Date('2026-01-01T12:00:00Z');
const base: OpsInputs = {
  now,
  servedBy: 'gw-a',
  prefix: 'dx',
  shardCount: 8,
  instances: [],
  tenants: [],
  workspaces: [],
  health: [],
  rebuilds: [],
  failedValidations: [],
  warnings: [],
};

describe('buildOpsState', () => {
  it('aggregates gateways, shards, tenants, busiest docs and queues across instances', () => {
    const s = buildOpsState({
      ...base,
      tenants: [{ id: 't1', name: 'Acme' }],
      instances: [
        {
          kind: 'gateway',
          id: 'gw-b',
          started_at: 'x',
          updated_at: 'y',
          connections: 3,
          connections_by_tenant: { t1: 2, t2: 1 },
          busiest_docs: [{ tenant: 't1', doc: 'd1', subscribers: 2, frames: 10 }],
        },
        {
          kind: 'gateway',
          id: 'gw-a',
          started_at: 'x',
          updated_at: 'y',
          connections: 2,
          connections_by_tenant: { t1: 2 },
          busiest_docs: [
            { tenant: 't1', doc: 'd1', subscribers: 1, frames: 5 },
            { tenant: 't2', doc: 'd9', subscribers: 1, frames: 30 },
          ],
        },
        {
          kind: 'doc-service',
          id: 'ds-2',
          started_at: 'x',
          updated_at: 'y',
          shards: [4, 5, 6],
          docs_loaded: 7,
          workspaces: [{ tenant: 't1', workspace: 'w1', peers: 2 }],
        },
        {
          kind: 'doc-service',
          id: 'ds-1',
          started_at: 'x',
          updated_at: 'y',
          shards: [0, 1, 2, 99],
          docs_loaded: 1,
          workspaces: [],
        },
        {
          kind: 'history-worker',
          id: 'hw',
          started_at: 'x',
          updated_at: 'y',
          active_jobs: 1,
          concurrency: 4,
          queues: { validation: { waiting: 3, active: 1, delayed: 0, failed: 2 } },
        },
        {
          kind: 'history-worker',
          id: 'hw2',
          started_at: 'x',
          updated_at: 'y',
          queues: { validation: { waiting: 5, active: 0, delayed: 1, failed: 2 } },
        },
      ],
    });
    expect(s.gateways.map((g) => g.id)).toEqual(['gw-a', 'gw-b']);
    expect(s.summary).toMatchObject({
      gateways: 2,
      doc_services: 2,
      history_workers: 2,
      connections: 5,
      docs_loaded: 8,
      shard_count: 8,
      shards_owned: 6,
    });
    expect(s.shard_owners).toEqual(['ds-1', 'ds-1', 'ds-1', null, 'ds-2', 'ds-2', 'ds-2', null]);
    expect(s.connections_by_tenant).toEqual([
      { tenant: 't1', name: 'Acme', connections: 4 },
      { tenant: 't2', name: null, connections: 1 },
    ]);
    expect(s.busiest_docs[0]).toEqual({ tenant: 't2', doc: 'd9', subscribers: 1, frames: 30 });
    expect(s.busiest_docs[1]).toEqual({ tenant: 't1', doc: 'd1', subscribers: 3, frames: 15 });
    expect(s.queues).toEqual([
      { queue: 'validation', source: 'heartbeat', waiting: 5, active: 1, delayed: 1, failed: 2 },
    ]);
    expect(s.workspaces).toEqual([
      expect.objectContaining({
        tenant: 't1',
        tenant_name: 'Acme',
        workspace: 'w1',
        peers: 2,
        status: 'unchecked',
      }),
    ]);
  });

  it('survives malformed heartbeats (defaults instead of errors)', () => {
    const s = buildOpsState({
      ...base,
      instances: [
        { kind: 'gateway', id: 'gw', connections: 'lots', connections_by_tenant: 'nope', busiest_docs: 5 },
        { kind: 'doc-service', id: 'ds', shards: 'all' },
        { kind: 'history-worker', id: 'hw', queues: { q: 'broken' } },
        { kind: 'unknown-kind', id: 'x' },
      ],
    });
    expect(s.gateways).toEqual([expect.objectContaining({ id: 'gw', connections: 0, tenants: 0 })]);
    expect(s.doc_services[0].shards).toEqual([]);
    expect(s.queues).toEqual([
      { queue: 'q', source: 'heartbeat', waiting: 0, active: 0, delayed: 0, failed: 0 },
    ]);
  });

  it('uses queue depths read from Redis when no worker is alive, and ranks failing workspaces first', () => {
    const s = buildOpsState({
      ...base,
      redisQueueDepths: { compaction: { waiting: 9, active: 0, delayed: 0, failed: 0 } },
      workspaces: [
        { tenant: 't', workspace: 'a', name: 'Alpha' },
        { tenant: 't', workspace: 'b', name: 'Beta' },
        { tenant: 't', workspace: 'c', name: 'Gamma' },
      ],
      health: [
        {
          tenant: 't',
          workspace: 'a',
          consecutive_failures: 0,
          issues: 0,
          last_checked_at: 'z',
          last_ok_at: 'z',
          last_good_commit: 'abc',
        },
        {
          tenant: 't',
          workspace: 'b',
          consecutive_failures: 2,
          issues: 3,
          last_checked_at: 'z',
          last_ok_at: null,
          last_good_commit: null,
        },
      ],
      workspaceLimit: 2,
    });
    expect(s.queues).toEqual([
      { queue: 'compaction', source: 'redis', waiting: 9, active: 0, delayed: 0, failed: 0 },
    ]);
    expect(s.workspaces.map((w) => [w.workspace, w.status])).toEqual([
      ['b', 'failing'],
      ['c', 'unchecked'],
    ]);
    expect(s.workspaces_total).toBe(3);
    expect(s.summary.failing_workspaces).toBe(1);
  });
});
