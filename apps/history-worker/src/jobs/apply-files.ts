/**
 * Makes a workspace equal to a set of files by FORWARD updates through the owning shards, so
 * connected clients converge and history is kept. Idempotent: re-planning after a partial run
 * only produces what is still missing.
 */
import { workspaceDocId } from '@diaryx-sync/crdt';
import type { RepoFile } from '@diaryx-sync/git-store';
import type { LoadedWorkspace } from '../workspace/workspace-model';
import type { JobContext } from './job-context';

/** Applies the plan; returns the number of docs updated. Body docs first, the workspace doc last. */
export async function applyFiles(
  ctx: JobContext,
  loaded: LoadedWorkspace,
  files: RepoFile[],
  origin: string,
  options: { addOnly?: boolean } = {},
): Promise<number> {
  const plan = ctx.model.planRestore(loaded, files, options);
  const wsDocId = workspaceDocId(loaded.workspace);
  const ordered = [...plan.keys()].sort((a, b) => (a === wsDocId ? 1 : b === wsDocId ? -1 : a < b ? -1 : 1));
  for (const docId of ordered) {
    await ctx.applyUpdate({ tenant: loaded.tenant, docId, update: plan.get(docId)!, origin });
  }
  return plan.size;
}
