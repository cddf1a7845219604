/**
 * Delivers one webhook event (docs/protocol.md#webhooks): POSTs the JSON body with the
 * `Diaryx-Webhook-Id` (idempotency id), `Diaryx-Timestamp` and `Diaryx-Signature` headers. A
 * non-2xx answer, a network error or a timeout throws, so BullMQ retries with exponential backoff
 * (at-least-once); a hook deleted since the event, or whose URL is not http(s), is skipped.
 */
import { signWebhook, WEBHOOK_HEADERS, type WebhookDeliveryJobData } from '@diaryx-sync/bus';
import type { JobContext } from './job-context';

/** Result of a delivery job. */
export interface WebhookDeliveryResult {
  status: number | 'skipped';
}

/** Timeout of one delivery attempt. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

export async function runWebhookDelivery(
  ctx: Pick<JobContext, 'webhooks' | 'log'>,
  job: WebhookDeliveryJobData,
): Promise<WebhookDeliveryResult> {
  const hook = await ctx.webhooks.get(job.tenant, job.webhookId);
  if (!hook || hook.workspace !== job.event.workspace) return { status: 'skipped' };
  const url = new URL(hook.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { status: 'skipped' };
  const body = JSON.stringify(job.event);
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'diaryx-sync-webhooks',
      [WEBHOOK_HEADERS.id]: job.event.id,
      [WEBHOOK_HEADERS.event]: job.event.type,
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signWebhook(hook.secret, timestamp, body),
    },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300)
    throw new Error(`webhook ${hook.id} answered HTTP ${res.status}`);
  return { status: res.status };
}
