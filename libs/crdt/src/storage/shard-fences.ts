/**
 * The fence inside the database (docs/fencing.md): `shard_fences` holds the current fencing
 * token of every shard. A new shard owner raises it ({@link raiseShardFence}) before serving;
 * every fenced append (`UpdateBatchEntry.fence`) is inserted only if its token is still the
 * shard's current one, checked under a row lock in the same statement as the insert.
 */
import type { Pool } from 'pg';

/** The shard an update is written for and the fencing token its writer holds for it. */
export interface ShardFence {
  shard: number;
  token: number;
}

/**
 * A fenced append was refused: for these shards the writer's token is not the current one (a
 * newer owner raised the fence). Nothing of the batch was written.
 */
export class StaleFenceError extends Error {
  override readonly name = 'StaleFenceError';

  constructor(readonly shards: number[]) {
    super(`stale fencing token for shard(s) ${shards.join(', ')}: another owner holds them`);
  }
}

/**
 * Makes `owner` the holder of `shard`'s fence and returns its token: at least `atLeast` and
 * strictly greater than any token handed out before (tokens only increase). Waits for fenced
 * appends of the previous owner that are in flight (they hold the row lock) to finish first.
 */
export async function raiseShardFence(
  pool: Pool,
  shard: number,
  atLeast: number,
  owner: string,
): Promise<number> {
  if (!Number.isInteger(shard) || shard < 0) throw new TypeError('shard must be a non-negative integer');
  const r = await pool.query<{ token: string }>(
    `INSERT INTO shard_fences (shard, token, owner) VALUES ($1, $2, $3)
     ON CONFLICT (shard) DO UPDATE
       SET token = GREATEST(shard_fences.token + 1, EXCLUDED.token), owner = EXCLUDED.owner, acquired_at = now()
     RETURNING token`,
    [shard, Math.max(1, Math.floor(atLeast)), owner],
  );
  return Number(r.rows[0].token);
}

/** The current token of each shard that has a fence (ops, tests). */
export async function readShardFences(pool: Pool): Promise<Map<number, { token: number; owner: string }>> {
  const r = await pool.query<{ shard: number; token: string; owner: string }>(
    'SELECT shard, token, owner FROM shard_fences',
  );
  return new Map(r.rows.map((x) => [Number(x.shard), { token: Number(x.token), owner: x.owner }]));
}
