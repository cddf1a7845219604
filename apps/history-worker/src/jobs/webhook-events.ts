/**
 * Emits change-webhook events (docs/protocol.md#webhooks): one `webhook-delivery` job per hook of
 * the event's workspace (in the event's tenant only) that subscribed to its type.
 */
import { randomUUID } from 'node:crypto';
import type { FileEventsJobData, WebhookEventType } from '@diaryx-sync/bus';
import type { JobContext } from './job-context';

/** Queues `type` for every subscribed hook of the workspace; returns how many were queued. */
export async function emitWebhookEvent(
  ctx: Pick<JobContext, 'webhooks' | 'queues' | 'log'>,
  tenant: string,
  workspace: string,
  type: WebhookEventType,
  data: Record<string, unknown>,
  eventId: string = randomUUID(),
): Promise<number> {
  const hooks = await ctx.webhooks.subscribers(tenant, workspace, type);
  const createdAt = new Date().toISOString();
  for (const hook of hooks) {
    await ctx.queues.enqueueWebhookDelivery({
      tenant,
      webhookId: hook.id,
      event: { id: `${eventId}:${hook.id}`, type, created_at: createdAt, workspace, data },
    });
  }
  return hooks.length;
}

/** Like {@link emitWebhookEvent}, but a failure is logged, never thrown (the job's work is done). */
export async function emitWebhookEventSafely(
  ctx: Pick<JobContext, 'webhooks' | 'queues' | 'log'>,
  tenant: string,
  workspace: string,
  type: WebhookEventType,
  data: Record<string, unknown>,
  eventId?: string,
): Promise<void> {
  try {
    await emitWebhookEvent(ctx, tenant, workspace, type, data, eventId);
  } catch (err) {
    ctx.log.warn({ err, tenant, workspace, type }, 'webhook event not queued');
  }
}

/**
 * A `webhook-events` job: one event per file change; the event id derives from the job id, so a
 * retried job queues the same (de-duplicated) deliveries.
 */
export async function runFileEvents(
  ctx: Pick<JobContext, 'webhooks' | 'queues' | 'log'>,
  jobId: string,
  data: FileEventsJobData,
): Promise<{ events: number }> {
  let events = 0;
  for (const [i, change] of data.changes.entries()) {
    events += await emitWebhookEvent(
      ctx,
      data.tenant,
      data.workspace,
      change.type,
      { path: change.path },
      `${jobId}:${i}`,
    );
  }
  return { events };
}
