/**
 * Per-workspace mutual exclusion across worker processes: a Redis lock (`SET NX PX`) with a
 * random token, renewed while held and released only by its holder (compare-and-delete).
 * Commit, rebuild and restore of one workspace never run concurrently.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@diaryx-sync/runtime';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** Raised when the lock stays busy for longer than the wait budget (the job is retried later). */
export class WorkspaceBusyError extends Error {
  override readonly name = 'WorkspaceBusyError';
}

export interface WorkspaceLockOptions {
  redis: RedisClient;
  prefix: string;
  ttlMs: number;
  waitMs: number;
  /** Polled while waiting: when it returns true the wait ends with {@link ShutdownAbortError}. */
  shouldAbort?: () => boolean;
}

/** The worker is shutting down: the job gives up waiting and goes back to the queue. */
export class ShutdownAbortError extends Error {
  override readonly name = 'ShutdownAbortError';
}

/** The lock key of a workspace. */
export function workspaceLockKey(prefix: string, tenant: string, workspace: string): string {
  return `${prefix}:history:lock:${tenant}:${workspace}`;
}

/** Runs `fn` while holding the workspace lock. */
export async function withWorkspaceLock<T>(
  opts: WorkspaceLockOptions,
  tenant: string,
  workspace: string,
  fn: () => Promise<T>,
): Promise<T> {
  const key = workspaceLockKey(opts.prefix, tenant, workspace);
  const token = randomUUID();
  const deadline = Date.now() + opts.waitMs;
  let delay = 50;
  while ((await opts.redis.set(key, token, 'PX', opts.ttlMs, 'NX')) !== 'OK') {
    if (opts.shouldAbort?.())
      throw new ShutdownAbortError(`shutting down while waiting for ${tenant}/${workspace}`);
    if (Date.now() >= deadline) throw new WorkspaceBusyError(`workspace ${tenant}/${workspace} is busy`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1000);
  }
  const renew = setInterval(
    () => {
      void opts.redis.eval(RENEW, 1, key, token, String(opts.ttlMs)).catch(() => undefined);
    },
    Math.max(500, Math.floor(opts.ttlMs / 3)),
  );
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await opts.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}
