/**
 * The workspace guard of an update-log append (docs/workspace-deletion.md): an entry that carries
 * one is written only while its workspace still exists with the same generation, checked in the
 * SAME statement as the insert, under a `FOR SHARE` lock on the workspace row. Deleting the row
 * (`DELETE FROM workspaces`) therefore waits for appends in flight and refuses every later one,
 * and a re-created workspace with the same id (a new generation) never receives updates that were
 * applied to the deleted one.
 *
 * The row is the gateway's `workspaces` table (`tenant_id`, `id`, `created_at`); the generation is
 * `created_at` as exact text (microseconds), read with {@link WORKSPACE_GENERATION_SQL}.
 */

/** Workspace and generation an append is valid for. */
export interface WorkspaceGuard {
  /** Workspace id (within the storage's tenant). */
  id: string;
  /** `created_at::text` of its row when the writer loaded the doc. */
  generation: string;
}

/** SQL expression of a workspace row's generation (`w` = the `workspaces` row). */
export const WORKSPACE_GENERATION_SQL = 'w.created_at::text';

/**
 * A guarded append was refused: these workspaces no longer exist with the generation the writer
 * loaded (deleted, or deleted and re-created). Nothing of the batch was written.
 */
export class WorkspaceGoneError extends Error {
  override readonly name = 'WorkspaceGoneError';

  constructor(readonly workspaces: string[]) {
    super(`workspace(s) ${workspaces.join(', ')} deleted: update not written`);
  }
}
