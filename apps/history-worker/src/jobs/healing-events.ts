/**
 * The one place self-healing tells the world what it did (docs/self-healing.md): an audit row in
 * `history_audit` (shown on `/ops`). Webhooks, when they exist, are emitted from here too.
 */
import type { AuditEntry } from '@diaryx-sync/git-store';
import type { JobContext } from './job-context';

/** A self-healing event: `repair`, `rebuild`, `validation_failed` or `validation_alert`. */
export type HealingEvent = Omit<AuditEntry, 'id' | 'created_at'>;

/** Records the event; returns the audit row id. */
export async function recordHealingEvent(ctx: JobContext, event: HealingEvent): Promise<number> {
  const id = await ctx.audit.record(event);
  // Webhook hook point: emit `event` (with the audit row id) to the tenant's webhooks here once
  // webhooks exist. Nothing else needs to change: every self-healing event passes through here.
  return id;
}
