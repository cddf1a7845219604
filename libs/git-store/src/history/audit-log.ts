/** The `history_audit` table: who did what to a workspace's state, when, with which commit/backup. */
import type { Pool } from 'pg';

/**
 * Audited events. Self-healing (docs/self-healing.md): `repair` (repair in place), `rebuild` (an
 * unreadable CRDT), `validation_failed` (every failed check), `validation_alert` (the failure
 * threshold was reached and repair did not help: commits are stopped).
 */
export type AuditEvent =
  'rebuild' | 'restore' | 'import' | 'validation_failed' | 'repair' | 'validation_alert';

/** One audit row. */
export interface AuditEntry {
  id: number;
  tenant: string;
  workspace: string;
  event: AuditEvent;
  /** `system` for automatic actions, else the token subject. */
  actor: string;
  commit_id: string | null;
  backup_key: string | null;
  details: Record<string, unknown>;
  /** RFC3339 */
  created_at: string;
}

interface Row extends Omit<AuditEntry, 'id' | 'created_at'> {
  id: string;
  created_at: Date;
}

const toEntry = (r: Row): AuditEntry => ({ ...r, id: Number(r.id), created_at: r.created_at.toISOString() });

/** Appends and lists audit rows. */
export class AuditLog {
  constructor(private readonly pool: Pool) {}

  async record(entry: Omit<AuditEntry, 'id' | 'created_at'>): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO history_audit (tenant, workspace, event, actor, commit_id, backup_key, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        entry.tenant,
        entry.workspace,
        entry.event,
        entry.actor,
        entry.commit_id,
        entry.backup_key,
        JSON.stringify(entry.details),
      ],
    );
    return Number(rows[0].id);
  }

  /** Newest first; one workspace or (without tenant/workspace) the whole cluster. */
  async list(
    opts: { tenant?: string; workspace?: string; event?: AuditEvent; limit?: number } = {},
  ): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.tenant) where.push(`tenant = $${args.push(opts.tenant)}`);
    if (opts.workspace) where.push(`workspace = $${args.push(opts.workspace)}`);
    if (opts.event) where.push(`event = $${args.push(opts.event)}`);
    const sql = `SELECT * FROM history_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${args.push(opts.limit ?? 50)}`;
    const { rows } = await this.pool.query<Row>(sql, args);
    return rows.map(toEntry);
  }
}
