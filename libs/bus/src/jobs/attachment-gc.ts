/**
 * The `attachment-gc` job contract (docs/protocol.md#attachments): per tenant, delete the
 * content-addressed attachment objects that no live workspace doc and no git commit references.
 * Objects younger than the grace period, or touched (`HEAD`/re-upload) within it, are kept: a
 * client that found the bytes on the server has that long to record its reference.
 */

/** Default grace period (ms): 1 hour. */
export const ATTACHMENT_GC_GRACE_MS = 3600_000;

/** Default interval (ms) of the scheduled sweep that queues a GC per tenant: 1 hour. */
export const ATTACHMENT_GC_INTERVAL_MS = 3600_000;

/**
 * Id of the BullMQ job scheduler of the sweep, and the name of its jobs in the `attachment-gc`
 * queue: a sweep job queues one `attachment-gc` job per tenant that has attachment objects.
 */
export const ATTACHMENT_GC_SWEEP = 'attachment-gc-sweep';

/** Result of a sweep job. */
export interface AttachmentGcSweepResult {
  /** Tenants a GC was queued for (those with attachment objects). */
  tenants: string[];
}

/** Payload of an `attachment-gc` job. */
export interface AttachmentGcJobData {
  tenant: string;
  /** Override of the grace period (ms). */
  graceMs?: number;
}

/** Result of an `attachment-gc` job. */
export interface AttachmentGcJobResult {
  /** Objects the tenant had. */
  stored: number;
  /** Distinct hashes referenced by live docs or commits. */
  referenced: number;
  /** Unreferenced objects kept because they are within the grace period. */
  kept_recent: number;
  /** Hashes deleted. */
  deleted: string[];
}

/** Redis key marking that a client just relied on `hash` existing (TTL = the grace period). */
export function attachmentTouchKey(prefix: string, tenant: string, hash: string): string {
  return `${prefix}:attachments:touch:${tenant}:${hash}`;
}
