/**
 * Reading a workspace's persisted documents (`CrdtStorage`) and materializing them to markdown
 * with `@diaryx-sync/crdt`: shared by the history worker and the gateway's snapshot export.
 */
import {
  BodyDoc,
  bodyDocIdPrefix,
  materializeWorkspace,
  readDocState,
  workspaceDocId,
  WorkspaceCrdt,
  type CrdtStorage,
} from '@diaryx-sync/crdt';
import type { RepoFile } from '../git/tree-builder';

/**
 * Doc id → full state of every persisted doc of the workspace (workspace doc and bodies). A doc
 * with a snapshot or update rows that do not decode contributes what still decodes (`readDocState`;
 * the history worker rebuilds such docs: docs/self-healing.md).
 */
export async function loadWorkspaceStates(
  storage: CrdtStorage,
  workspace: string,
): Promise<Map<string, Uint8Array>> {
  const states = new Map<string, Uint8Array>();
  const wsDoc = workspaceDocId(workspace);
  const prefix = bodyDocIdPrefix(workspace);
  for (const docId of await storage.listDocs()) {
    if (docId !== wsDoc && !docId.startsWith(prefix)) continue;
    const { state } = await readDocState(storage, docId);
    if (state) states.set(docId, state);
  }
  return states;
}

/** Markdown files (frontmatter + body) of the live files, sorted by path. */
export function materializeStates(workspace: string, states: ReadonlyMap<string, Uint8Array>): RepoFile[] {
  const ws = WorkspaceCrdt.fromUpdate(states.get(workspaceDocId(workspace)) ?? null);
  const prefix = bodyDocIdPrefix(workspace);
  const bodies = new Map<string, string>();
  for (const [docId, state] of states) {
    if (!docId.startsWith(prefix)) continue;
    const path = docId.slice(prefix.length);
    bodies.set(path, BodyDoc.fromUpdate(path, state).getBody());
  }
  return materializeWorkspace(ws, bodies).map((f) => ({ path: f.path, content: f.content }));
}

/** Loads and materializes in one go. */
export async function materializeStoredWorkspace(
  storage: CrdtStorage,
  workspace: string,
): Promise<RepoFile[]> {
  return materializeStates(workspace, await loadWorkspaceStates(storage, workspace));
}
