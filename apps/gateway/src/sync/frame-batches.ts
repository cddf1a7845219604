/**
 * Frames of one connection for one doc that arrive in the same event-loop turn travel to the
 * doc's shard as ONE `frame` envelope: their payloads (each a sequence of y-protocols messages,
 * docs/protocol.md) are concatenated in arrival order, and the shard applies, persists,
 * broadcasts and acknowledges them together (docs/architecture.md#one-update-end-to-end).
 *
 * A client that writes a burst (a paste, an offline queue, a fast script) costs one envelope, one
 * Redis publish, one update-log row and one broadcast per turn instead of one per frame; a client
 * typing at human speed sends one frame per turn, so nothing changes for it except that its frame
 * leaves at the end of the turn (`setImmediate`) instead of at once.
 *
 * The owner keeps order: a batch is sealed (sent) before anything else of its connection that
 * must not overtake it goes out (a `save`, `leave`, `disconnect`, `focus`, or a frame that is not
 * batched), by calling {@link FrameBatches.sealAll}.
 */

/** An open batch: the frames gathered so far. */
export interface FrameBatch {
  /** Payloads in arrival order. */
  readonly parts: Uint8Array[];
  /** Sum of the parts' lengths. */
  bytes: number;
}

/** Limits of one batch. */
export interface FrameBatchLimits {
  /** A frame joins an open batch only while the batch stays within this many bytes. */
  maxBytes: number;
  /** Most frames per batch. */
  maxFrames: number;
}

/** See module doc. */
export class FrameBatches<B extends FrameBatch> {
  private readonly open = new Map<string, B>();
  private scheduled = false;

  constructor(
    private readonly limits: FrameBatchLimits,
    /** Sends a batch that is complete (called once per batch, in the order batches were opened). */
    private readonly seal: (batch: B) => void,
  ) {}

  /**
   * Adds `payload` to the open batch of `key` when it fits; returns false when there is none or it
   * is full (the caller then seals it with {@link sealKey} and opens a new one).
   */
  tryAppend(key: string, payload: Uint8Array): boolean {
    const batch = this.open.get(key);
    if (!batch) return false;
    if (batch.parts.length >= this.limits.maxFrames || batch.bytes + payload.length > this.limits.maxBytes)
      return false;
    batch.parts.push(payload);
    batch.bytes += payload.length;
    return true;
  }

  /** Opens a batch for `key` (its first payload is already in `batch.parts`); sent at the end of the turn. */
  start(key: string, batch: B): void {
    this.sealKey(key);
    this.open.set(key, batch);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.sealAll();
      });
    }
  }

  /** Sends the open batch of `key`, if any. */
  sealKey(key: string): void {
    const batch = this.open.get(key);
    if (!batch) return;
    this.open.delete(key);
    this.seal(batch);
  }

  /** Stops `batch` (open under `key`) from taking more frames, without sending it. */
  detach(key: string, batch: B): void {
    if (this.open.get(key) === batch) this.open.delete(key);
  }

  /** Sends every open batch, in the order they were opened. */
  sealAll(): void {
    for (const [key, batch] of this.open) {
      this.open.delete(key);
      this.seal(batch);
    }
  }

  /** Number of open batches. */
  get size(): number {
    return this.open.size;
  }
}

/** Concatenates `parts` (returns the only part itself when there is one). */
export function concatParts(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
