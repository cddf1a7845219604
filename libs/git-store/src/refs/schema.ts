/**
 * PostgreSQL schema owned by the history side: git refs. Applied idempotently at start-up under an
 * advisory lock so that concurrent processes never race on DDL. Table names are unqualified
 * (isolation comes from the connection's `search_path`).
 */
import type { Pool } from 'pg';

const LOCK_KEY = 74_210_501; // arbitrary, constant advisory-lock id for git-store DDL

const STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS git_refs (
     tenant text NOT NULL,
     workspace text NOT NULL,
     name text NOT NULL,
     value text NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (tenant, workspace, name)
   )`,
];

/** Creates the `git_refs` table when missing. */
export async function ensureGitStoreSchema(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      for (const sql of STATEMENTS) await client.query(sql);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
