/**
 * The `webhook_deliveries` table: one row per webhook delivery attempt (docs/protocol.md#webhooks),
 * written by the history worker and shown on `/ops` (docs/protocol.md#webhooks). A row names the hook,
 * the event and the URL's host only: never the full URL (it may carry a token), the secret or the
 * payload. Rows older than {@link WEBHOOK_DELIVERY_RETENTION_DAYS} are pruned as new ones arrive.
 */
import type { Pool } from 'pg';

/** How long delivery attempts are kept. */
export const WEBHOOK_DELIVERY_RETENTION_DAYS = 7;
/** Longest stored error text. */
const MAX_ERROR_CHARS = 300;

/** One delivery attempt. */
export interface WebhookDeliveryAttempt {
  tenant: string;
  workspace: string;
  webhookId: string;
  eventType: string;
  eventId: string;
  urlHost: string;
  /** 1-based attempt number. */
  attempt: number;
  outcome: 'delivered' | 'failed' | 'gave_up';
  /** The receiver's HTTP status, null when no answer came (network error, timeout). */
  httpStatus: number | null;
  /** Why the attempt failed (null when delivered). */
  error: string | null;
  durationMs: number;
}

/** Append-only log of delivery attempts. */
export class WebhookDeliveryLog {
  constructor(private readonly pool: Pool) {}

  /** Records one attempt and prunes rows past the retention. */
  async record(a: WebhookDeliveryAttempt): Promise<void> {
    await this.pool.query(
      `WITH pruned AS (
         DELETE FROM webhook_deliveries WHERE created_at < now() - make_interval(days => $12)
       )
       INSERT INTO webhook_deliveries
         (tenant, workspace, webhook_id, event_type, event_id, url_host, attempt, outcome,
          http_status, error, duration_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        a.tenant,
        a.workspace,
        a.webhookId,
        a.eventType,
        a.eventId,
        a.urlHost,
        a.attempt,
        a.outcome,
        a.httpStatus,
        a.error === null ? null : a.error.slice(0, MAX_ERROR_CHARS),
        Math.round(a.durationMs),
        WEBHOOK_DELIVERY_RETENTION_DAYS,
      ],
    );
  }
}
