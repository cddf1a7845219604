/**
 * Large reply payloads by reference. Redis closes a subscriber whose output buffer exceeds its
 * `client-output-buffer-limit pubsub` (32 MB by default): 150 clients joining a 4 MB document at
 * once would push 600 MB of SyncStep2 replies through one gateway's channel. So a reply payload
 * over {@link INLINE_PAYLOAD_MAX_BYTES} is stored once under a content-addressed, tenant-scoped,
 * expiring key (`payloadKey`) and the envelope carries a {@link PayloadRef}; the gateway fetches
 * it (one GET per key however many replies refer to it, then from a small cache).
 *
 * The doc service stores each payload object once per half TTL (the answer to an empty state
 * vector is one object shared by every joiner until the doc changes, docs/architecture.md).
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { PayloadRef } from './envelope';
import { payloadKey } from './names';

/** Reply payloads up to this size travel inline in the envelope. */
export const INLINE_PAYLOAD_MAX_BYTES = 256 * 1024;

/** Options of {@link PayloadStore}. */
export interface PayloadStoreOptions {
  redis: Redis | Cluster;
  prefix: string;
  /** Lifetime of a stored payload, seconds (default 60): far longer than a reply takes to arrive. */
  ttlSeconds?: number;
  /** Payloads above this size are stored (default {@link INLINE_PAYLOAD_MAX_BYTES}). */
  inlineMaxBytes?: number;
  /** Bytes of fetched payloads kept for further replies (default 64 MiB). */
  cacheBytes?: number;
  /** How long a fetched payload stays cached, ms (default 10 s). */
  cacheMs?: number;
}

/** See module doc. */
export class PayloadStore {
  private readonly ttlSeconds: number;
  private readonly inlineMaxBytes: number;
  private readonly cacheBytes: number;
  private readonly cacheMs: number;
  /** Payload objects already stored, with their key and when (ms). */
  private readonly stored = new WeakMap<Uint8Array, { key: string; at: number }>();
  /** Fetched payloads by key, oldest first (Map order). */
  private readonly cache = new Map<string, { bytes: Uint8Array; at: number }>();
  private cachedBytes = 0;
  private readonly fetching = new Map<string, Promise<Uint8Array | null>>();

  constructor(private readonly opts: PayloadStoreOptions) {
    this.ttlSeconds = opts.ttlSeconds ?? 60;
    this.inlineMaxBytes = opts.inlineMaxBytes ?? INLINE_PAYLOAD_MAX_BYTES;
    this.cacheBytes = opts.cacheBytes ?? 64 * 1024 * 1024;
    this.cacheMs = opts.cacheMs ?? 10_000;
  }

  /** `payloads` for an envelope of `tenant`: large ones stored and replaced by a reference. */
  async offload(tenant: string, payloads: readonly Uint8Array[]): Promise<(Uint8Array | PayloadRef)[]> {
    if (payloads.every((p) => p.length <= this.inlineMaxBytes)) return [...payloads];
    return Promise.all(payloads.map((p) => (p.length <= this.inlineMaxBytes ? p : this.store(tenant, p))));
  }

  /** True when every payload is bytes (no reference left to {@link resolve}). */
  static isResolved(payloads: readonly (Uint8Array | PayloadRef)[]): payloads is Uint8Array[] {
    return payloads.every((p) => p instanceof Uint8Array);
  }

  /** The bytes of every payload, or `null` when a referenced one is gone (expired). */
  async resolve(payloads: readonly (Uint8Array | PayloadRef)[]): Promise<Uint8Array[] | null> {
    const out = await Promise.all(payloads.map((p) => (p instanceof Uint8Array ? p : this.fetch(p.key))));
    return out.every((p): p is Uint8Array => p !== null) ? out : null;
  }

  private async store(tenant: string, bytes: Uint8Array): Promise<PayloadRef> {
    const now = Date.now();
    const known = this.stored.get(bytes);
    if (known && now - known.at < (this.ttlSeconds * 1000) / 2) return { key: known.key };
    const digest = createHash('sha256').update(bytes).digest('hex');
    const key = payloadKey(this.opts.prefix, tenant, digest);
    await this.opts.redis.set(
      key,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      'EX',
      this.ttlSeconds,
    );
    this.stored.set(bytes, { key, at: now });
    return { key };
  }

  private fetch(key: string): Promise<Uint8Array | null> {
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.cacheMs) return Promise.resolve(hit.bytes);
    const inFlight = this.fetching.get(key);
    if (inFlight) return inFlight;
    const p = this.opts.redis.getBuffer(key).then(
      (buf) => {
        this.fetching.delete(key);
        if (!buf) return null;
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        this.remember(key, bytes);
        return bytes;
      },
      (err: unknown) => {
        this.fetching.delete(key);
        throw err;
      },
    );
    this.fetching.set(key, p);
    return p;
  }

  private remember(key: string, bytes: Uint8Array): void {
    if (bytes.length > this.cacheBytes) return;
    const old = this.cache.get(key);
    if (old) this.cachedBytes -= old.bytes.length;
    this.cache.delete(key);
    this.cache.set(key, { bytes, at: Date.now() });
    this.cachedBytes += bytes.length;
    const now = Date.now();
    for (const [k, v] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes && now - v.at < this.cacheMs) break;
      this.cache.delete(k);
      this.cachedBytes -= v.bytes.length;
    }
  }
}
