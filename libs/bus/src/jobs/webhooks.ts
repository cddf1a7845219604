/**
 * Change webhooks (docs/protocol.md#webhooks): the event vocabulary, the payload of a
 * `webhook-delivery` job, and the signature scheme every delivery carries. The signature is
 * HMAC-SHA256 with the hook's secret over `{timestamp}.{raw body}`, sent as
 * `Diaryx-Signature: v1={hex}` with `Diaryx-Timestamp: {unix seconds}` and the idempotency id
 * `Diaryx-Webhook-Id: {event id}`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Every webhook event type (`events` of a hook is a non-empty subset). */
export const WEBHOOK_EVENTS = [
  'file.created',
  'file.changed',
  'file.renamed',
  'file.deleted',
  'commit.created',
  'validation.failed',
  'workspace.rebuilt',
  'workspace.repaired',
] as const;

/** One of {@link WEBHOOK_EVENTS}. */
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** The JSON body POSTed to a hook. */
export interface WebhookEvent {
  /** Unique per event and hook: the idempotency id (`Diaryx-Webhook-Id`). */
  id: string;
  type: WebhookEventType;
  /** RFC 3339. */
  created_at: string;
  workspace: string;
  data: Record<string, unknown>;
}

/** `webhook-delivery` job: POST `event` to the hook `webhookId` of the tenant. */
export interface WebhookDeliveryJobData {
  tenant: string;
  webhookId: string;
  event: WebhookEvent;
}

/** One file change of a workspace, as reported by the doc service (debounced per file). */
export interface FileChangeEvent {
  type: 'file.created' | 'file.changed' | 'file.renamed' | 'file.deleted';
  path: string;
}

/**
 * `webhook-events` job: the file changes of one workspace in one debounce window, queued by the
 * doc service; the history worker turns each into a delivery per subscribed hook.
 */
export interface FileEventsJobData {
  tenant: string;
  workspace: string;
  changes: FileChangeEvent[];
}

/** Header names of a delivery. */
export const WEBHOOK_HEADERS = {
  id: 'diaryx-webhook-id',
  timestamp: 'diaryx-timestamp',
  signature: 'diaryx-signature',
  event: 'diaryx-event',
} as const;

/** `v1={hex HMAC-SHA256(secret, "{timestamp}.{body}")}`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * The receiver's check (docs/protocol.md#webhooks): the signature matches the raw body and
 * timestamp, and the timestamp is within `toleranceS` of `nowS` (replay window, default 300 s).
 */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowS = Math.floor(Date.now() / 1000),
  toleranceS = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS || !headers.signature) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  return headers.signature
    .split(',')
    .map((s) => Buffer.from(s.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}
