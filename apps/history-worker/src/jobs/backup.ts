/**
 * Backup of a workspace's raw CRDT state to S3 before a rebuild:
 * per doc the snapshot and the whole update log, gzip'd JSON under `{tenant}/{ws}/backups/`.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { readDocState } from '@diaryx-sync/crdt';
import { backupKey } from '@diaryx-sync/objstore';
import type { JobContext } from './job-context';

/** Format of a backup file (after gunzip). */
export interface WorkspaceBackup {
  format: 'diaryx-sync-backup/1';
  tenant: string;
  workspace: string;
  reason: string;
  created_at: string;
  docs: {
    doc: string;
    /** Full merged state (base64 Yjs update). */
    state: string | null;
    /** Compacted snapshot alone (base64), null when none. */
    snapshot: string | null;
    updates: { id: number; timestamp: number; origin: string; device_id: string | null; data: string }[];
  }[];
}

const b64 = (u: Uint8Array | null) => (u ? Buffer.from(u).toString('base64') : null);

/** Writes the backup; returns its S3 key. */
export async function backupWorkspace(
  ctx: JobContext,
  tenant: string,
  workspace: string,
  docIds: string[],
  reason: string,
): Promise<string> {
  const storage = ctx.storageFor(tenant);
  const backup: WorkspaceBackup = {
    format: 'diaryx-sync-backup/1',
    tenant,
    workspace,
    reason,
    created_at: new Date().toISOString(),
    docs: [],
  };
  for (const doc of docIds) {
    const updates = await storage.getAllUpdates(doc);
    // an unreadable doc keeps its raw snapshot and rows; `state` is what still decodes
    backup.docs.push({
      doc,
      state: b64((await readDocState(storage, doc)).state),
      snapshot: b64(await storage.getStateAt(doc, 0)),
      updates: updates.map((u) => ({
        id: u.id,
        timestamp: u.timestamp,
        origin: u.origin,
        device_id: u.deviceId,
        data: b64(u.data) ?? '',
      })),
    });
  }
  const stamp = backup.created_at.replace(/[:.]/g, '-');
  const key = backupKey(tenant, workspace, `${stamp}-${randomUUID().slice(0, 8)}.json.gz`);
  await ctx.objects.put(key, gzipSync(Buffer.from(JSON.stringify(backup))), 'application/gzip');
  return key;
}
