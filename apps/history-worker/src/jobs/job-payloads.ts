/**
 * Validation of job payloads read from Redis: a malformed job fails once with an
 * `UnrecoverableError` (no retries) instead of crashing or misbehaving.
 */
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import {
  WEBHOOK_EVENTS,
  type CompactionJobData,
  type RebuildJobData,
  type RestoreJobData,
  type FileEventsJobData,
  type WebhookDeliveryJobData,
  type WorkspaceJobData,
} from '@diaryx-sync/bus';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const tenant = z.string().min(1).max(128);

const compaction = z.object({
  tenant,
  docId: z.string().min(1).max(1024),
  keepUpdates: z.number().int().min(0).optional(),
});
const workspaceJob = z.object({
  tenant,
  workspace: id,
  trigger: z.enum(['quiet', 'demand', 'rebuild', 'schedule']),
  requestedBy: z.string().max(256).optional(),
  dirtySince: z.number().int().optional(),
});
const rebuild = z.object({
  tenant,
  workspace: id,
  reason: z.string().max(1000),
  requestedBy: z.string().max(256).optional(),
});
const restore = z.object({
  tenant,
  workspace: id,
  requestedBy: z.string().max(256).optional(),
  source: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('commit'), commitId: z.string().regex(/^[0-9a-f]{40}$/) }),
    z.object({
      kind: z.literal('import'),
      key: z.string().min(1).max(1024),
      mode: z.enum(['replace', 'merge']),
    }),
  ]),
});

const webhookDelivery = z.object({
  tenant,
  webhookId: z.string().min(1).max(64),
  event: z.object({
    id: z.string().min(1).max(200),
    type: z.enum(WEBHOOK_EVENTS),
    created_at: z.string(),
    workspace: id,
    data: z.record(z.unknown()),
  }),
});

const fileEvents = z.object({
  tenant,
  workspace: id,
  changes: z
    .array(
      z.object({
        type: z.enum(['file.created', 'file.changed', 'file.renamed', 'file.deleted']),
        path: z.string().min(1).max(1024),
      }),
    )
    .max(100_000),
});

function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (!r.success)
    throw new UnrecoverableError(
      `malformed ${what} job: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

export const parseCompactionJob = (d: unknown): CompactionJobData => parse(compaction, d, 'compaction');
export const parseWorkspaceJob = (d: unknown): WorkspaceJobData => parse(workspaceJob, d, 'workspace');
export const parseRebuildJob = (d: unknown): RebuildJobData => parse(rebuild, d, 'rebuild');
export const parseRestoreJob = (d: unknown): RestoreJobData => parse(restore, d, 'restore');
export const parseWebhookDeliveryJob = (d: unknown): WebhookDeliveryJobData =>
  parse(webhookDelivery, d, 'webhook delivery');
export const parseFileEventsJob = (d: unknown): FileEventsJobData => parse(fileEvents, d, 'file events');
