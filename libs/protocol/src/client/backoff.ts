/** Reconnect policy of a {@link SyncClient}. */
export interface ReconnectOptions {
  /** Delay before the first retry (default 1000 ms). */
  readonly baseDelayMs: number;
  /** Upper bound of any delay (default 32000 ms). */
  readonly maxDelayMs: number;
  /** Consecutive failed attempts before giving up (default: unlimited). */
  readonly maxAttempts: number;
  /** Random spread, as a fraction of the delay (default 0.3: the delay is ±30 %). */
  readonly jitter: number;
}

/** Default reconnect policy: 1 s base, 32 s cap, unlimited attempts, ±30 % jitter. */
export const DEFAULT_RECONNECT: ReconnectOptions = Object.freeze({
  baseDelayMs: 1000,
  maxDelayMs: 32000,
  maxAttempts: Number.POSITIVE_INFINITY,
  jitter: 0.3,
});

/**
 * Exponential backoff with jitter: attempt 1 waits about `base`, attempt 2 about `2·base`, … never
 * more than `maxDelayMs`. `random` is injectable for tests.
 */
export function backoffDelay(
  attempt: number,
  options: ReconnectOptions = DEFAULT_RECONNECT,
  random: () => number = Math.random,
): number {
  const exp = options.baseDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 30));
  const capped = Math.min(exp, options.maxDelayMs);
  const spread = capped * options.jitter * (random() * 2 - 1);
  return Math.max(0, Math.min(options.maxDelayMs, Math.round(capped + spread)));
}
