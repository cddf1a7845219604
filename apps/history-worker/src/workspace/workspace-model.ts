/**
 * What the jobs need from the document model, in one interface so that the jobs stay independent
 * of how `@diaryx-sync/crdt` spells it (see `crdt-workspace-model.ts` for the implementation).
 */
import type { RepoFile } from '@diaryx-sync/git-store';
import type { ValidationIssueSummary } from '@diaryx-sync/git-store';

/** A workspace's current documents, loaded from PostgreSQL. */
export interface LoadedWorkspace {
  tenant: string;
  workspace: string;
  /** Doc id → full state (one Yjs update), for every doc of the workspace that has state. */
  states: Map<string, Uint8Array>;
}

/** Result of the sanity checks. */
export interface ValidationOutcome {
  ok: boolean;
  issues: ValidationIssueSummary[];
}

/** Decision of the persisted health tracker after recording an outcome. */
export interface HealthDecision {
  action: 'commit' | 'skip_commit' | 'rebuild';
  consecutiveFailures: number;
  /** Plain-data tracker state to persist. */
  tracker: Record<string, unknown>;
}

/** Document-model operations used by the jobs. */
export interface WorkspaceModel {
  /** Loads the workspace doc and every body doc of the workspace. */
  load(tenant: string, workspace: string): Promise<LoadedWorkspace>;
  /** Markdown files with YAML frontmatter of the live files (libs/crdt materialize). */
  materialize(ws: LoadedWorkspace): RepoFile[];
  /** Sanity validation (libs/crdt `validateWorkspace`). */
  validate(ws: LoadedWorkspace): ValidationOutcome;
  /** Feeds one outcome into the health tracker restored from `tracker`. */
  decide(tracker: Record<string, unknown>, ok: boolean, threshold: number): HealthDecision;
  /**
   * Forward updates (doc id → Yjs update) that make the workspace's live files equal to `files`
   * (markdown with frontmatter): changed metadata/bodies are rewritten, files absent from `files`
   * become tombstones. Empty map when nothing differs.
   */
  planRestore(ws: LoadedWorkspace, files: RepoFile[]): Map<string, Uint8Array>;
}
