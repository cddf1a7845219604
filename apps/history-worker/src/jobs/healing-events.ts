/**
 * The one place self-healing tells the world what it did (docs/self-healing.md): an audit row in
 * `history_audit` (shown on `/ops`) and the matching change-webhook event (docs/protocol.md#webhooks).
 */
import type { AuditEntry } from '@diaryx-sync/git-store';
import type { WebhookEventType } from '@diaryx-sync/bus';
import type { JobContext } from './job-context';
import { emitWebhookEventSafely } from './webhook-events';

/** The webhook event (docs/protocol.md#webhooks) of each audited self-healing event. */
const WEBHOOK_EVENT_OF: Partial<Record<HealingEvent['event'], WebhookEventType>> = {
  repair: 'workspace.repaired',
  rebuild: 'workspace.rebuilt',
  validation_failed: 'validation.failed',
};

/** A self-healing event: `repair`, `rebuild`, `validation_failed` or `validation_alert`. */
export type HealingEvent = Omit<AuditEntry, 'id' | 'created_at'>;

/** Records the event; returns the audit row id. */
export async function recordHealingEvent(ctx: JobContext, event: HealingEvent): Promise<number> {
  const id = await ctx.audit.record(event);
  const type = WEBHOOK_EVENT_OF[event.event];
  if (type) {
    await emitWebhookEventSafely(
      ctx,
      event.tenant,
      event.workspace,
      type,
      { audit_id: id, actor: event.actor, commit_id: event.commit_id, details: event.details },
      `audit-${id}`,
    );
  }
  return id;
}
