/**
 * {@link CrdtStorage} on PostgreSQL: tables `crdt_updates` and `crdt_snapshots`, a tenant column
 * on every row, `bytea` data. Table names are unqualified (`search_path` picks the schema).
 */
import type { Pool, PoolClient } from 'pg';
import * as Y from 'yjs';
import { runMigrations } from '../migrations';
import { CRDT_MIGRATIONS, CRDT_MIGRATIONS_TABLE } from './crdt-migrations';
import {
  checkEntries,
  type CrdtStorage,
  type StoredUpdate,
  type UpdateAuthor,
  type UpdateBatchEntry,
  type UpdateMeta,
} from './crdt-storage';
import { mergeIntoState } from './merge';
import { StaleFenceError } from './shard-fences';
import { WORKSPACE_GENERATION_SQL, WorkspaceGoneError } from './workspace-guard';

/** Options of {@link PostgresStorage}. */
export interface PostgresStorageOptions {
  /** Connection pool (owned by the caller; the storage never ends it). */
  pool: Pool;
  /** Tenant id; every row read or written carries it. */
  tenant: string;
}

interface UpdateRow {
  id: string;
  doc: string;
  data: Buffer;
  ts: string;
  origin: string;
  device_id: string | null;
  device_name: string | null;
  user_id: string | null;
}

/** PostgreSQL-backed {@link CrdtStorage} for one tenant. */
export class PostgresStorage implements CrdtStorage {
  /** The pool queries run on. */
  readonly pool: Pool;
  /** The tenant this instance reads and writes. */
  readonly tenant: string;

  /**
   * Creates a storage. Call {@link PostgresStorage.init} once per process before use (or use
   * {@link PostgresStorage.open}).
   *
   * @throws TypeError for an empty or non-string tenant.
   */
  constructor(opts: PostgresStorageOptions) {
    const tenant = opts.tenant;
    if (typeof tenant !== 'string' || tenant === '') throw new TypeError('tenant must be a non-empty string');
    this.pool = opts.pool;
    this.tenant = tenant;
  }

  /** Creates a storage (same options as the constructor) and runs the crdt migrations. */
  static async open(opts: PostgresStorageOptions): Promise<PostgresStorage> {
    const storage = new PostgresStorage(opts);
    await storage.init();
    return storage;
  }

  /** Runs the crdt migrations (idempotent; safe when several processes start concurrently). */
  async init(): Promise<void> {
    await PostgresStorage.migrate(this.pool);
  }

  /** Runs the crdt migrations on a pool without creating a storage. */
  static async migrate(pool: Pool): Promise<void> {
    await runMigrations(pool, { table: CRDT_MIGRATIONS_TABLE, migrations: CRDT_MIGRATIONS });
  }

  /** A storage for another tenant sharing this pool (no migrations are run). */
  forTenant(tenant: string): PostgresStorage {
    return new PostgresStorage({ pool: this.pool, tenant });
  }

  /** {@inheritDoc CrdtStorage.loadDoc} */
  async loadDoc(doc: string): Promise<Uint8Array | null> {
    return this.mergedState(doc, null);
  }

  /** {@inheritDoc CrdtStorage.saveDoc} */
  async saveDoc(doc: string, state: Uint8Array): Promise<void> {
    checkDoc(doc);
    const sv = Y.encodeStateVectorFromUpdate(state);
    await this.transaction(async (c) => {
      await this.lockDoc(c, doc);
      await c.query(
        `INSERT INTO crdt_snapshots (tenant, doc, snapshot, state_vector, last_update_id, updated_at)
       VALUES ($1, $2, $3, $4,
         GREATEST(COALESCE((SELECT max(id) FROM crdt_updates WHERE tenant = $1 AND doc = $2), 0),
                  COALESCE((SELECT last_update_id FROM crdt_snapshots WHERE tenant = $1 AND doc = $2), 0)),
         now())
       ON CONFLICT (tenant, doc) DO UPDATE SET snapshot = EXCLUDED.snapshot,
         state_vector = EXCLUDED.state_vector, last_update_id = EXCLUDED.last_update_id, updated_at = now()`,
        [this.tenant, doc, toBuffer(state), toBuffer(sv)],
      );
    });
  }

  /** {@inheritDoc CrdtStorage.deleteDoc} */
  async deleteDoc(doc: string): Promise<void> {
    await this.transaction(async (c) => {
      await this.lockDoc(c, doc);
      await c.query('DELETE FROM crdt_updates WHERE tenant = $1 AND doc = $2', [this.tenant, doc]);
      await c.query('DELETE FROM crdt_snapshots WHERE tenant = $1 AND doc = $2', [this.tenant, doc]);
    });
  }

  /** {@inheritDoc CrdtStorage.listDocs} */
  async listDocs(prefix = ''): Promise<string[]> {
    const like = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const r = await this.pool.query<{ doc: string }>(
      `SELECT doc FROM crdt_snapshots WHERE tenant = $1 AND doc LIKE $2
       UNION SELECT DISTINCT doc FROM crdt_updates WHERE tenant = $1 AND doc LIKE $2`,
      [this.tenant, like],
    );
    return r.rows.map((x) => x.doc).sort();
  }

  /** {@inheritDoc CrdtStorage.appendUpdate} */
  async appendUpdate(doc: string, data: Uint8Array, meta: UpdateMeta = {}): Promise<number> {
    checkDoc(doc);
    checkData(data);
    const r = await this.pool.query<{ id: string }>(
      `INSERT INTO crdt_updates (tenant, doc, data, origin, device_id, device_name, user_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        this.tenant,
        doc,
        toBuffer(data),
        meta.origin ?? 'local',
        meta.deviceId ?? null,
        meta.deviceName ?? null,
        meta.userId ?? null,
      ],
    );
    return Number(r.rows[0].id);
  }

  /** {@inheritDoc CrdtStorage.batchAppendUpdates} */
  async batchAppendUpdates(entries: UpdateBatchEntry[]): Promise<number[]> {
    checkEntries(entries);
    if (entries.length === 0) return [];
    for (const e of entries) {
      checkDoc(e.doc);
      checkData(e.data);
    }
    // One statement = one transaction. Ids come from nextval in input order (WITH ORDINALITY),
    // so the ascending returned ids map to the entries in order. Fenced entries: the claimed
    // (shard, token) pairs are compared with `shard_fences` under FOR SHARE row locks (a new
    // owner's raiseShardFence waits for this statement, and this statement sees its committed
    // token), and nothing is inserted when one is stale (docs/fencing.md).
    // Guarded entries (workspace generation, docs/workspace-deletion.md) only when there are some:
    // the `workspaces` table may not exist where no guard is used.
    const guarded = entries.some((e) => e.workspace !== undefined);
    const userParam = guarded ? 11 : 9;
    const guardSql = guarded
      ? `, claimed_ws AS (
         SELECT DISTINCT g.id, g.generation FROM unnest($9::text[], $10::text[]) AS g(id, generation)
         WHERE g.id IS NOT NULL
       ), live_ws AS (
         SELECT w.id, ${WORKSPACE_GENERATION_SQL} AS generation FROM workspaces w
         WHERE w.tenant_id = $1 AND w.id IN (SELECT id FROM claimed_ws) FOR SHARE
       ), gone AS (
         SELECT c.id FROM claimed_ws c LEFT JOIN live_ws l ON l.id = c.id AND l.generation = c.generation
         WHERE l.id IS NULL
       )`
      : `, gone AS (SELECT NULL::text AS id WHERE false)`;
    // A named (prepared) statement: PostgreSQL parses and plans this CTE once per connection
    // instead of once per batch (docs/benchmarks.md, profiles).
    const r = await this.pool.query<{
      id: string | null;
      stale_shard: number | null;
      gone_ws: string | null;
    }>({
      name: guarded ? 'diaryx-batch-append-guarded' : 'diaryx-batch-append',
      text: `WITH claimed AS (
         SELECT DISTINCT c.shard, c.token FROM unnest($7::int[], $8::bigint[]) AS c(shard, token)
         WHERE c.shard IS NOT NULL
       ), current_fence AS (
         SELECT f.shard, f.token FROM shard_fences f WHERE f.shard IN (SELECT shard FROM claimed) FOR SHARE
       ), stale AS (
         SELECT c.shard FROM claimed c LEFT JOIN current_fence f ON f.shard = c.shard
         WHERE f.token IS DISTINCT FROM c.token
       )${guardSql}, inserted AS (
         INSERT INTO crdt_updates (id, tenant, doc, data, origin, device_id, device_name, fence_shard, fence_token, user_id)
         SELECT nextval(pg_get_serial_sequence('crdt_updates', 'id')), $1, u.doc, u.data, u.origin,
           u.device_id, u.device_name, u.fence_shard, u.fence_token, u.user_id
         FROM unnest($2::text[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[], $${userParam}::text[])
           WITH ORDINALITY AS u(doc, data, origin, device_id, device_name, fence_shard, fence_token, user_id, ord)
         WHERE NOT EXISTS (SELECT 1 FROM stale) AND NOT EXISTS (SELECT 1 FROM gone)
         ORDER BY u.ord
         RETURNING id
       )
       SELECT id, NULL::int AS stale_shard, NULL::text AS gone_ws FROM inserted
       UNION ALL SELECT NULL, shard, NULL FROM stale
       UNION ALL SELECT NULL, NULL, id FROM gone`,
      values: [
        this.tenant,
        entries.map((e) => e.doc),
        entries.map((e) => toBuffer(e.data)),
        entries.map((e) => e.meta?.origin ?? 'local'),
        entries.map((e) => e.meta?.deviceId ?? null),
        entries.map((e) => e.meta?.deviceName ?? null),
        entries.map((e) => e.fence?.shard ?? null),
        entries.map((e) => e.fence?.token ?? null),
        ...(guarded
          ? [entries.map((e) => e.workspace?.id ?? null), entries.map((e) => e.workspace?.generation ?? null)]
          : []),
        entries.map((e) => e.meta?.userId ?? null),
      ],
    });
    const stale = r.rows.filter((x) => x.stale_shard !== null).map((x) => Number(x.stale_shard));
    if (stale.length > 0) throw new StaleFenceError(stale.sort((a, b) => a - b));
    const gone = r.rows.filter((x) => x.gone_ws !== null).map((x) => String(x.gone_ws));
    if (gone.length > 0) throw new WorkspaceGoneError(gone.sort());
    return r.rows.map((x) => Number(x.id)).sort((a, b) => a - b);
  }

  /** {@inheritDoc CrdtStorage.getUpdatesSince} */
  async getUpdatesSince(doc: string, sinceId: number): Promise<StoredUpdate[]> {
    const r = await this.pool.query<UpdateRow>(
      `${SELECT_UPDATES} WHERE tenant = $1 AND doc = $2 AND id > $3 ORDER BY id`,
      [this.tenant, doc, sinceId],
    );
    return r.rows.map(toStoredUpdate);
  }

  /** {@inheritDoc CrdtStorage.getAllUpdates} */
  async getAllUpdates(doc: string): Promise<StoredUpdate[]> {
    const r = await this.pool.query<UpdateRow>(
      `${SELECT_UPDATES} WHERE tenant = $1 AND doc = $2 ORDER BY id`,
      [this.tenant, doc],
    );
    return r.rows.map(toStoredUpdate);
  }

  /** {@inheritDoc CrdtStorage.getStateAt} */
  async getStateAt(doc: string, updateId: number): Promise<Uint8Array | null> {
    return this.mergedState(doc, updateId);
  }

  /** {@inheritDoc CrdtStorage.compact} */
  async compact(doc: string, keepUpdates: number, throughId = Infinity): Promise<void> {
    const keep = Math.max(0, Math.floor(keepUpdates));
    await this.transaction(async (c) => {
      await this.lockDoc(c, doc);
      const rows = await c.query<{ id: string; data: Buffer }>(
        `SELECT id, data FROM crdt_updates WHERE tenant = $1 AND doc = $2 ORDER BY id
         LIMIT GREATEST((SELECT count(*) FROM crdt_updates WHERE tenant = $1 AND doc = $2) - $3, 0)`,
        [this.tenant, doc, keep],
      );
      // ordered by id: the rows at or below throughId are a prefix
      rows.rows = rows.rows.filter((r) => Number(r.id) <= throughId);
      if (rows.rows.length === 0) return;
      const snap = await c.query<{ snapshot: Buffer; last_update_id: string }>(
        'SELECT snapshot, last_update_id FROM crdt_snapshots WHERE tenant = $1 AND doc = $2',
        [this.tenant, doc],
      );
      const parts: Uint8Array[] = [];
      if (snap.rows.length > 0) parts.push(snap.rows[0].snapshot);
      for (const r of rows.rows) parts.push(r.data);
      const state = parts.length === 1 ? parts[0] : (mergeIntoState(parts) as Uint8Array);
      const sv = Y.encodeStateVectorFromUpdate(state);
      const ids = rows.rows.map((r) => r.id);
      const lastId = Math.max(Number(ids[ids.length - 1]), Number(snap.rows[0]?.last_update_id ?? 0));
      await c.query(
        `INSERT INTO crdt_snapshots (tenant, doc, snapshot, state_vector, last_update_id, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (tenant, doc) DO UPDATE SET snapshot = EXCLUDED.snapshot,
           state_vector = EXCLUDED.state_vector, last_update_id = EXCLUDED.last_update_id, updated_at = now()`,
        [this.tenant, doc, toBuffer(state), toBuffer(sv), lastId],
      );
      await c.query('DELETE FROM crdt_updates WHERE tenant = $1 AND doc = $2 AND id = ANY($3::bigint[])', [
        this.tenant,
        doc,
        ids,
      ]);
    });
  }

  /** {@inheritDoc CrdtStorage.getLatestUpdateId} */
  async getLatestUpdateId(doc: string): Promise<number> {
    const r = await this.pool.query<{ id: string }>(
      `SELECT GREATEST(
         COALESCE((SELECT max(id) FROM crdt_updates WHERE tenant = $1 AND doc = $2), 0),
         COALESCE((SELECT last_update_id FROM crdt_snapshots WHERE tenant = $1 AND doc = $2), 0)) AS id`,
      [this.tenant, doc],
    );
    return Number(r.rows[0].id);
  }

  /** {@inheritDoc CrdtStorage.getCompactedThrough} */
  async getCompactedThrough(doc: string): Promise<number> {
    const r = await this.pool.query<{ last_update_id: string }>(
      'SELECT last_update_id FROM crdt_snapshots WHERE tenant = $1 AND doc = $2',
      [this.tenant, doc],
    );
    return Number(r.rows[0]?.last_update_id ?? 0);
  }

  /** {@inheritDoc CrdtStorage.getAuthorsSince} */
  async getAuthorsSince(docs: readonly string[], sinceMs: number): Promise<UpdateAuthor[]> {
    if (docs.length === 0) return [];
    const r = await this.pool.query<{ user_id: string; devices: (string | null)[]; n: string }>(
      `SELECT user_id, array_agg(DISTINCT device_name) AS devices, count(*) AS n FROM crdt_updates
       WHERE tenant = $1 AND doc = ANY($2::text[]) AND user_id IS NOT NULL
         AND created_at > to_timestamp($3::double precision / 1000)
       GROUP BY user_id ORDER BY count(*) DESC, user_id`,
      [this.tenant, docs, sinceMs],
    );
    return r.rows.map((row) => ({
      userId: row.user_id,
      deviceNames: row.devices.filter((d): d is string => d !== null).sort(),
      updates: Number(row.n),
    }));
  }

  /** {@inheritDoc CrdtStorage.getUpdateCount} */
  async getUpdateCount(doc: string): Promise<number> {
    const r = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM crdt_updates WHERE tenant = $1 AND doc = $2',
      [this.tenant, doc],
    );
    return Number(r.rows[0].n);
  }

  /** {@inheritDoc CrdtStorage.renameDoc} */
  async renameDoc(from: string, to: string): Promise<void> {
    checkDoc(to);
    if (from === to) return;
    await this.transaction(async (c) => {
      await this.lockDoc(c, from < to ? from : to);
      await this.lockDoc(c, from < to ? to : from);
      const exists = await c.query(
        `SELECT 1 FROM crdt_snapshots WHERE tenant = $1 AND doc = $2
         UNION ALL SELECT 1 FROM crdt_updates WHERE tenant = $1 AND doc = $2 LIMIT 1`,
        [this.tenant, from],
      );
      if (exists.rows.length === 0) return;
      await c.query('DELETE FROM crdt_updates WHERE tenant = $1 AND doc = $2', [this.tenant, to]);
      await c.query('DELETE FROM crdt_snapshots WHERE tenant = $1 AND doc = $2', [this.tenant, to]);
      await c.query('UPDATE crdt_updates SET doc = $3 WHERE tenant = $1 AND doc = $2', [
        this.tenant,
        from,
        to,
      ]);
      await c.query('UPDATE crdt_snapshots SET doc = $3 WHERE tenant = $1 AND doc = $2', [
        this.tenant,
        from,
        to,
      ]);
    });
  }

  /** {@inheritDoc CrdtStorage.clearUpdates} */
  async clearUpdates(doc: string): Promise<void> {
    await this.transaction(async (c) => {
      await this.lockDoc(c, doc);
      await c.query('DELETE FROM crdt_updates WHERE tenant = $1 AND doc = $2', [this.tenant, doc]);
    });
  }

  /** {@inheritDoc CrdtStorage.dropUpdates} */
  async dropUpdates(doc: string, ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.transaction(async (c) => {
      await this.lockDoc(c, doc);
      await c.query('DELETE FROM crdt_updates WHERE tenant = $1 AND doc = $2 AND id = ANY($3::bigint[])', [
        this.tenant,
        doc,
        ids.map(String),
      ]);
    });
  }

  /**
   * Snapshot + log rows (id <= maxId when given) merged into one update. One statement, so the
   * snapshot and the rows are read consistently even while a compaction commits.
   */
  private async mergedState(doc: string, maxId: number | null): Promise<Uint8Array | null> {
    const r = await this.pool.query<{ data: Buffer }>(
      `SELECT data FROM (
         SELECT snapshot AS data, -1::bigint AS ord FROM crdt_snapshots WHERE tenant = $1 AND doc = $2
         UNION ALL
         SELECT data, id AS ord FROM crdt_updates
           WHERE tenant = $1 AND doc = $2 AND ($3::bigint IS NULL OR id <= $3::bigint)
       ) parts ORDER BY ord`,
      [this.tenant, doc, maxId],
    );
    const merged = mergeIntoState(r.rows.map((x) => x.data));
    return merged ? toBytes(merged) : null;
  }

  private async lockDoc(c: PoolClient, doc: string): Promise<void> {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`crdt:${this.tenant}`, doc]);
  }

  private async transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken = false;
    try {
      await c.query('BEGIN');
      const result = await fn(c);
      await c.query('COMMIT');
      return result;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      c.release(broken ? true : undefined);
    }
  }
}

const SELECT_UPDATES = `SELECT id, doc, data, (extract(epoch FROM created_at) * 1000)::bigint AS ts,
  origin, device_id, device_name, user_id FROM crdt_updates`;

function toStoredUpdate(r: UpdateRow): StoredUpdate {
  return {
    id: Number(r.id),
    doc: r.doc,
    data: toBytes(r.data),
    timestamp: Number(r.ts),
    origin: r.origin,
    deviceId: r.device_id,
    deviceName: r.device_name,
    userId: r.user_id,
  };
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** A plain Uint8Array copy (not a pooled Buffer view). */
function toBytes(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

function checkDoc(doc: string): void {
  if (typeof doc !== 'string' || doc === '') throw new TypeError('doc id must be a non-empty string');
}

function checkData(data: Uint8Array): void {
  if (!(data instanceof Uint8Array)) throw new TypeError('update data must be a Uint8Array');
}
