/**
 * Delivers one webhook event (docs/protocol.md#webhooks): POSTs the JSON body with the
 * `Diaryx-Webhook-Id` (idempotency id), `Diaryx-Timestamp` and `Diaryx-Signature` headers. A
 * non-2xx answer, a network error or a timeout throws, so BullMQ retries with exponential backoff
 * (at-least-once); a hook deleted since the event, or whose URL is not http(s), is skipped.
 * Every attempt is counted (`diaryx_webhook_deliveries_total`, `diaryx_webhook_delivery_seconds`)
 * and recorded in `webhook_deliveries` for `/ops` (docs/protocol.md#webhooks).
 */
import { signWebhook, WEBHOOK_HEADERS, type WebhookDeliveryJobData } from '@diaryx-sync/bus';
import type { WebhookDeliveryOutcome } from '@diaryx-sync/runtime';
import type { JobContext } from './job-context';

/** Result of a delivery job. */
export interface WebhookDeliveryResult {
  status: number | 'skipped';
}

/** Timeout of one delivery attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** Which attempt of the BullMQ job this is (1-based) out of how many. */
export interface DeliveryAttempt {
  attempt: number;
  attempts: number;
}

export async function runWebhookDelivery(
  ctx: Pick<JobContext, 'webhooks' | 'webhookDeliveries' | 'metrics' | 'log'>,
  job: WebhookDeliveryJobData,
  attempt: DeliveryAttempt,
): Promise<WebhookDeliveryResult> {
  const hook = await ctx.webhooks.get(job.tenant, job.webhookId);
  if (!hook || hook.workspace !== job.event.workspace) return { status: 'skipped' };
  const url = new URL(hook.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { status: 'skipped' };
  const started = performance.now();
  const record = async (outcome: WebhookDeliveryOutcome, httpStatus: number | null, error: string | null) => {
    const durationMs = performance.now() - started;
    ctx.metrics.webhooks.deliveries.inc({ outcome });
    ctx.metrics.webhooks.deliverySeconds.observe({ outcome }, durationMs / 1000);
    await ctx.webhookDeliveries
      .record({
        tenant: job.tenant,
        workspace: job.event.workspace,
        webhookId: hook.id,
        eventType: job.event.type,
        eventId: job.event.id,
        urlHost: url.host,
        attempt: attempt.attempt,
        outcome,
        httpStatus,
        error,
        durationMs,
      })
      .catch((err: unknown) =>
        ctx.log.warn({ err, tenant: job.tenant, webhook: hook.id }, 'webhook delivery not recorded'),
      );
  };
  const failed = attempt.attempt >= attempt.attempts ? 'gave_up' : 'failed';
  let res: Response;
  try {
    res = await post(url, hook.secret, job);
  } catch (err) {
    await record(failed, null, describeError(err));
    throw err;
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) {
    await record(failed, res.status, `HTTP ${res.status}`);
    throw new Error(`webhook ${hook.id} answered HTTP ${res.status}`);
  }
  await record('delivered', res.status, null);
  return { status: res.status };
}

/** The error of a failed request without the URL (it may carry a token): `fetch failed: ECONNREFUSED`. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `timeout after ${WEBHOOK_TIMEOUT_MS} ms`;
  const cause = (err as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? `${err.message}: ${cause.code}` : err.message;
}

/** POSTs the signed event. */
function post(url: URL, secret: string, job: WebhookDeliveryJobData): Promise<Response> {
  const body = JSON.stringify(job.event);
  const timestamp = Math.floor(Date.now() / 1000);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'diaryx-sync-webhooks',
      [WEBHOOK_HEADERS.id]: job.event.id,
      [WEBHOOK_HEADERS.event]: job.event.type,
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signWebhook(secret, timestamp, body),
    },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
}
