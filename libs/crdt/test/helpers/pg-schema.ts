import { Pool } from 'pg';
import { randomBytes } from 'node:crypto';

/** A pool bound to a fresh schema (via search_path); `drop()` removes schema and pool. */
export interface TestSchema {
  pool: Pool;
  schema: string;
  /** Opens another pool on the same schema (e.g. to simulate a second process). */
  extraPool(max?: number): Pool;
  drop(): Promise<void>;
}

export async function createTestSchema(): Promise<TestSchema> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `t_crdt_${randomBytes(6).toString('hex')}`;
  const admin = new Pool({ connectionString: url, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const pools: Pool[] = [];
  const make = (max = 4): Pool => {
    const p = new Pool({ connectionString: url, max, options: `-c search_path=${schema}` });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  const pool = make();
  return {
    pool,
    schema,
    extraPool: make,
    async drop() {
      for (const p of pools) await p.end().catch(() => undefined);
      const a = new Pool({ connectionString: url, max: 1 });
      await a.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await a.end();
    },
  };
}
