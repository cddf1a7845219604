/**
 * Throttles failed `/ops/login` attempts per source address (docs/protocol.md#ops): after
 * `maxFailures` failures within `windowMs` the address is locked out for `lockoutMs`, doubling
 * with every further lockout up to `maxLockoutMs`; a successful login clears its record. While
 * locked out every attempt is refused (429 with `Retry-After`) without checking the token, so
 * guessing is capped at `maxFailures` per window and then slows down exponentially. In-memory
 * per gateway; at most `maxAddresses` records are kept (the oldest are forgotten first).
 */
export interface LoginThrottleOptions {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxLockoutMs: number;
  maxAddresses: number;
}

/** 5 failures a minute, then 1 min, 2 min, 4 min … locked out (at most 1 h). */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  maxFailures: 5,
  windowMs: 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 3_600_000,
  maxAddresses: 10_000,
};

interface AddressRecord {
  /** Times of the failures in the current window. */
  failures: number[];
  /** Lockouts so far (the next one lasts `lockoutMs × 2^lockouts`). */
  lockouts: number;
  /** Locked out until this time (ms since epoch), 0 when not locked. */
  lockedUntil: number;
  /** Last activity, to forget idle records. */
  lastSeen: number;
}

export class LoginThrottle {
  private readonly records = new Map<string, AddressRecord>();

  constructor(
    private readonly options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryAfterSeconds(address: string): number {
    const record = this.records.get(address);
    if (!record) return 0;
    const wait = record.lockedUntil - this.now();
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  /** Records a failed attempt; returns the lockout in seconds it started (0 when none). */
  failed(address: string): number {
    const now = this.now();
    const record = this.touch(address, now);
    record.failures = record.failures.filter((t) => now - t < this.options.windowMs);
    record.failures.push(now);
    if (record.failures.length < this.options.maxFailures) return 0;
    const lockout = Math.min(this.options.lockoutMs * 2 ** record.lockouts, this.options.maxLockoutMs);
    record.lockouts += 1;
    record.failures = [];
    record.lockedUntil = now + lockout;
    return Math.ceil(lockout / 1000);
  }

  /** A successful login: the address starts afresh. */
  succeeded(address: string): void {
    this.records.delete(address);
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.records.size;
  }

  private touch(address: string, now: number): AddressRecord {
    let record = this.records.get(address);
    if (record) this.records.delete(address); // re-insert: Map order = least recently seen first
    record ??= { failures: [], lockouts: 0, lockedUntil: 0, lastSeen: now };
    record.lastSeen = now;
    this.records.set(address, record);
    this.forgetOld(now);
    return record;
  }

  private forgetOld(now: number): void {
    const idleMs = this.options.maxLockoutMs + this.options.windowMs;
    for (const [address, record] of this.records) {
      const evict = this.records.size > this.options.maxAddresses || now - record.lastSeen > idleMs;
      if (!evict) break;
      this.records.delete(address);
    }
  }
}
