/**
 * Git refs in PostgreSQL, moved only by compare-and-swap: a ref changes from `expected` to `next`
 * only if it still holds `expected`, so two writers can never fork a branch or lose a commit.
 */
import type { Pool } from 'pg';

const OID = /^[0-9a-f]{40}$/;

/** Ref access for every workspace of the cluster. */
export class RefStore {
  constructor(private readonly pool: Pool) {}

  /** The ref's commit id, or `null` when the ref does not exist yet. */
  async get(tenant: string, workspace: string, name: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ value: string }>(
      'SELECT value FROM git_refs WHERE tenant = $1 AND workspace = $2 AND name = $3',
      [tenant, workspace, name],
    );
    return rows[0]?.value ?? null;
  }

  /**
   * Moves `name` from `expected` (`null` = ref must not exist) to `next`.
   * @returns true when this call moved the ref, false when someone else moved it first.
   */
  async compareAndSwap(
    tenant: string,
    workspace: string,
    name: string,
    expected: string | null,
    next: string,
  ): Promise<boolean> {
    if (!OID.test(next)) throw new Error(`invalid commit id ${JSON.stringify(next)}`);
    if (expected === null) {
      const res = await this.pool.query(
        `INSERT INTO git_refs (tenant, workspace, name, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant, workspace, name) DO NOTHING`,
        [tenant, workspace, name, next],
      );
      return res.rowCount === 1;
    }
    const res = await this.pool.query(
      `UPDATE git_refs SET value = $5, updated_at = now()
       WHERE tenant = $1 AND workspace = $2 AND name = $3 AND value = $4`,
      [tenant, workspace, name, expected, next],
    );
    return res.rowCount === 1;
  }

  /** The workspace's refs whose name starts with `prefix`, by name. */
  async list(tenant: string, workspace: string, prefix: string): Promise<{ name: string; value: string }[]> {
    const { rows } = await this.pool.query<{ name: string; value: string }>(
      `SELECT name, value FROM git_refs WHERE tenant = $1 AND workspace = $2 AND starts_with(name, $3)
       ORDER BY name`,
      [tenant, workspace, prefix],
    );
    return rows;
  }

  /** Workspaces of a tenant that have at least one ref. */
  async workspaces(tenant: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ workspace: string }>(
      'SELECT DISTINCT workspace FROM git_refs WHERE tenant = $1 ORDER BY workspace',
      [tenant],
    );
    return rows.map((r) => r.workspace);
  }

  /** Deletes every ref of a workspace (workspace deletion). */
  async deleteWorkspace(tenant: string, workspace: string): Promise<void> {
    await this.pool.query('DELETE FROM git_refs WHERE tenant = $1 AND workspace = $2', [tenant, workspace]);
  }
}
