/**
 * Persisted per-workspace health (the `HealthTracker` state of `@diaryx-sync/crdt` survives
 * restarts): consecutive validation failures, the last issues, the last good commit.
 */
import type { Pool } from 'pg';

/** One workspace's persisted health. */
export interface WorkspaceHealth {
  tenant: string;
  workspace: string;
  consecutiveFailures: number;
  /** Opaque tracker state (plain data from `HealthTracker`). */
  tracker: Record<string, unknown>;
  lastIssues: unknown[];
  lastCheckedAt: string | null;
  lastOkAt: string | null;
  lastGoodCommit: string | null;
}

interface Row {
  tenant: string;
  workspace: string;
  consecutive_failures: number;
  tracker: Record<string, unknown>;
  last_issues: unknown[];
  last_checked_at: Date | null;
  last_ok_at: Date | null;
  last_good_commit: string | null;
}

const toHealth = (r: Row): WorkspaceHealth => ({
  tenant: r.tenant,
  workspace: r.workspace,
  consecutiveFailures: r.consecutive_failures,
  tracker: r.tracker,
  lastIssues: r.last_issues,
  lastCheckedAt: r.last_checked_at?.toISOString() ?? null,
  lastOkAt: r.last_ok_at?.toISOString() ?? null,
  lastGoodCommit: r.last_good_commit,
});

/** Reads and writes `workspace_health`. */
export class HealthStore {
  constructor(private readonly pool: Pool) {}

  /** The workspace's health, or a fresh healthy record when none is stored. */
  async get(tenant: string, workspace: string): Promise<WorkspaceHealth> {
    const { rows } = await this.pool.query<Row>(
      'SELECT * FROM workspace_health WHERE tenant = $1 AND workspace = $2',
      [tenant, workspace],
    );
    return rows[0]
      ? toHealth(rows[0])
      : {
          tenant,
          workspace,
          consecutiveFailures: 0,
          tracker: {},
          lastIssues: [],
          lastCheckedAt: null,
          lastOkAt: null,
          lastGoodCommit: null,
        };
  }

  /** Stores a validation outcome (upsert). */
  async record(
    tenant: string,
    workspace: string,
    update: { ok: boolean; consecutiveFailures: number; tracker: Record<string, unknown>; issues: unknown[] },
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO workspace_health (tenant, workspace, consecutive_failures, tracker, last_issues, last_checked_at, last_ok_at)
       VALUES ($1, $2, $3, $4, $5, now(), CASE WHEN $6 THEN now() END)
       ON CONFLICT (tenant, workspace) DO UPDATE SET
         consecutive_failures = EXCLUDED.consecutive_failures,
         tracker = EXCLUDED.tracker,
         last_issues = EXCLUDED.last_issues,
         last_checked_at = now(),
         last_ok_at = CASE WHEN $6 THEN now() ELSE workspace_health.last_ok_at END`,
      [
        tenant,
        workspace,
        update.consecutiveFailures,
        JSON.stringify(update.tracker),
        JSON.stringify(update.issues),
        update.ok,
      ],
    );
  }

  /** Remembers the newest commit made from a valid workspace. */
  async setLastGoodCommit(tenant: string, workspace: string, commitId: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO workspace_health (tenant, workspace, last_good_commit) VALUES ($1, $2, $3)
       ON CONFLICT (tenant, workspace) DO UPDATE SET last_good_commit = EXCLUDED.last_good_commit`,
      [tenant, workspace, commitId],
    );
  }

  /** Unhealthy workspaces (failures > 0), worst first — for the ops page. */
  async listUnhealthy(limit = 50): Promise<WorkspaceHealth[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT * FROM workspace_health WHERE consecutive_failures > 0 ORDER BY consecutive_failures DESC, last_checked_at DESC LIMIT $1',
      [limit],
    );
    return rows.map(toHealth);
  }
}
