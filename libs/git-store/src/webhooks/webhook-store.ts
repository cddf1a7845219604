/**
 * The `webhooks` table (docs/protocol.md#webhooks): change webhooks per tenant and workspace,
 * written by the gateway's API and read by the history worker when it emits events. Every query
 * is scoped by tenant: a hook is never visible to, nor fed by, another tenant.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

/** A stored hook (the secret is only handed out by {@link WebhookStore.create}). */
export interface Webhook {
  id: string;
  tenant: string;
  workspace: string;
  url: string;
  events: string[];
  created_at: string;
}

/** A hook with its signing secret (creation answer, delivery). */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

interface Row {
  id: string;
  tenant: string;
  workspace: string;
  url: string;
  events: string[];
  secret: string;
  created_at: Date;
}

const toHook = (r: Row): Webhook => ({
  id: r.id,
  tenant: r.tenant,
  workspace: r.workspace,
  url: r.url,
  events: r.events,
  created_at: r.created_at.toISOString(),
});

/** CRUD of the `webhooks` table. */
export class WebhookStore {
  constructor(private readonly pool: Pool) {}

  /** Creates a hook; a missing secret is generated (`whsec_` + 32 random bytes, hex). */
  async create(input: {
    tenant: string;
    workspace: string;
    url: string;
    events: string[];
    secret?: string;
  }): Promise<WebhookWithSecret> {
    const id = `wh_${randomBytes(8).toString('hex')}`;
    const secret = input.secret ?? `whsec_${randomBytes(32).toString('hex')}`;
    const { rows } = await this.pool.query<Row>(
      `INSERT INTO webhooks (id, tenant, workspace, url, events, secret) VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING *`,
      [id, input.tenant, input.workspace, input.url, input.events, secret],
    );
    return { ...toHook(rows[0]!), secret };
  }

  /** The workspace's hooks in id order (no secrets): at most `limit` after id `after`. */
  async list(
    tenant: string,
    workspace: string,
    page: { after?: string; limit?: number } = {},
  ): Promise<Webhook[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM webhooks WHERE tenant = $1 AND workspace = $2 AND ($3::text IS NULL OR id > $3)
       ORDER BY id LIMIT $4`,
      [tenant, workspace, page.after ?? null, page.limit ?? 1000],
    );
    return rows.map(toHook);
  }

  /** The workspace's hooks subscribed to `event`, with their secrets (for delivery). */
  async subscribers(tenant: string, workspace: string, event: string): Promise<WebhookWithSecret[]> {
    const { rows } = await this.pool.query<Row>(
      'SELECT * FROM webhooks WHERE tenant = $1 AND workspace = $2 AND $3 = ANY(events) ORDER BY id',
      [tenant, workspace, event],
    );
    return rows.map((r) => ({ ...toHook(r), secret: r.secret }));
  }

  /** One hook of the tenant with its secret, or null (deleted since the event). */
  async get(tenant: string, id: string): Promise<WebhookWithSecret | null> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM webhooks WHERE tenant = $1 AND id = $2', [
      tenant,
      id,
    ]);
    return rows[0] ? { ...toHook(rows[0]), secret: rows[0].secret } : null;
  }

  /** Deletes every hook of a workspace (workspace deletion); returns how many. */
  async deleteWorkspace(tenant: string, workspace: string): Promise<number> {
    const res = await this.pool.query('DELETE FROM webhooks WHERE tenant = $1 AND workspace = $2', [
      tenant,
      workspace,
    ]);
    return res.rowCount ?? 0;
  }

  /** Deletes a hook of the workspace; false when there was none. */
  async delete(tenant: string, workspace: string, id: string): Promise<boolean> {
    const res = await this.pool.query(
      'DELETE FROM webhooks WHERE tenant = $1 AND workspace = $2 AND id = $3',
      [tenant, workspace, id],
    );
    return (res.rowCount ?? 0) > 0;
  }
}
