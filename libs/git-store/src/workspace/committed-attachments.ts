/**
 * The attachment hashes a tenant's git history references (docs/protocol.md#attachments): the
 * SHA-256 of every non-markdown blob reachable from any ref of any of the tenant's repositories.
 * Attachment garbage collection never deletes these.
 */
import { isAttachmentPath } from '@diaryx-sync/crdt';
import { sha256OfBytes } from '@diaryx-sync/objstore';
import type { GitStore } from '../git-store';

/** Hex SHA-256 of every committed attachment blob of the tenant. */
export async function committedAttachmentHashes(git: GitStore, tenant: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const workspace of await git.refs.workspaces(tenant)) {
    const repo = git.repository(tenant, workspace);
    for (const [blob, path] of await repo.reachableBlobs())
      if (isAttachmentPath(path)) out.add(sha256OfBytes(await repo.readBlob(blob)));
  }
  return out;
}
