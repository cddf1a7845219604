/**
 * Attachment files of a workspace as repository files (docs/protocol.md#attachments): the bytes
 * of every hashed `BinaryRef` of a live file, read from the tenant's content-addressed store, at
 * the ref's path. Git commits and zip snapshots contain them next to the markdown.
 */
import { attachmentFiles, WorkspaceCrdt, workspaceDocId } from '@diaryx-sync/crdt';
import type { AttachmentStore } from '@diaryx-sync/objstore';
import { mapLimit, type RepoFile } from '../git/tree-builder';

/**
 * `markdown` plus the workspace's attachment files, sorted by path. A ref whose path is taken
 * by a markdown file, or whose bytes the store does not hold (not uploaded yet), is left out.
 */
export async function withAttachmentFiles(
  store: AttachmentStore,
  tenant: string,
  workspace: string,
  states: ReadonlyMap<string, Uint8Array>,
  markdown: RepoFile[],
): Promise<RepoFile[]> {
  const ws = WorkspaceCrdt.fromUpdate(states.get(workspaceDocId(workspace)) ?? null);
  const files = new Set<string>();
  const dirs = new Set<string>();
  // A path is kept when it is neither a file nor a directory of what is already kept.
  const claim = (path: string): boolean => {
    const parts = path.split('/');
    const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    if (files.has(path) || dirs.has(path) || parents.some((p) => files.has(p))) return false;
    files.add(path);
    for (const p of parents) dirs.add(p);
    return true;
  };
  for (const f of markdown) claim(f.path);
  const refs = [...attachmentFiles(ws).values()].filter((r) => claim(r.path));
  const loaded = await mapLimit(refs, 4, async (ref): Promise<RepoFile | null> => {
    const bytes = await store.get(tenant, ref.hash);
    return bytes ? { path: ref.path, content: new Uint8Array(bytes) } : null;
  });
  const out = [...markdown, ...loaded.filter((f): f is RepoFile => f !== null)];
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
