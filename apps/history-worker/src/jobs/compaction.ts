/** `compaction` job: fold a doc's old updates into its snapshot (PostgresStorage.compact, one transaction). */
import type { CompactionJobData } from '@diaryx-sync/bus';
import type { JobContext } from './job-context';

export interface CompactionResult {
  doc: string;
  keep_updates: number;
  updates_before: number;
  updates_after: number;
}

/** Idempotent: compacting twice leaves the same state. */
export async function runCompaction(ctx: JobContext, data: CompactionJobData): Promise<CompactionResult> {
  const keep = data.keepUpdates ?? ctx.config.HISTORY_KEEP_UPDATES;
  const storage = ctx.storageFor(data.tenant);
  const before = await storage.getUpdateCount(data.docId);
  if (before > keep) await storage.compact(data.docId, keep);
  const after = await storage.getUpdateCount(data.docId);
  return { doc: data.docId, keep_updates: keep, updates_before: before, updates_after: after };
}
