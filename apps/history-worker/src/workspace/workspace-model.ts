/**
 * What the jobs need from the document model, in one interface so that the jobs stay independent
 * of how `@diaryx-sync/crdt` spells it (see `crdt-workspace-model.ts` for the implementation).
 */
import type { RepoFile } from '@diaryx-sync/git-store';
import type { ValidationIssueSummary } from '@diaryx-sync/bus';

/** A stored doc with parts that do not decode (docs/self-healing.md "Rebuild"). */
export interface UnreadableDoc {
  docId: string;
  /** The snapshot does not decode. */
  badSnapshot: boolean;
  /** Log rows that do not decode. */
  badUpdateIds: number[];
}

/** A workspace's current documents, loaded from PostgreSQL. */
export interface LoadedWorkspace {
  tenant: string;
  workspace: string;
  /**
   * Doc id → full state (one Yjs update), for every doc of the workspace that has state. For an
   * unreadable doc: the merge of the parts that still decode.
   */
  states: Map<string, Uint8Array>;
  /** Docs that could only be read in part; non-empty means the CRDT needs a rebuild. */
  unreadable: UnreadableDoc[];
}

/** One repair, as audited and reported. */
export interface RepairSummary {
  kind: string;
  /** The validation finding it answers. */
  issue: string;
  files: string[];
  message: string;
}

/** Repairs planned for a loaded workspace (`@diaryx-sync/crdt` `planRepairs`). */
export interface WorkspaceRepairPlan {
  repairs: RepairSummary[];
  /** Doc id → forward update; body docs first, the workspace doc last. */
  updates: [docId: string, update: Uint8Array][];
  /** Orphan body paths within their grace period. */
  pendingOrphans: string[];
  /** Findings repair could not fix (young orphans excluded). */
  remaining: ValidationIssueSummary[];
}

/** Result of the sanity checks. */
export interface ValidationOutcome {
  ok: boolean;
  issues: ValidationIssueSummary[];
}

/** Decision of the persisted health tracker after recording an outcome. */
export interface HealthDecision {
  /** `alert`: the failure threshold is reached and repair did not help (commits stay stopped). */
  action: 'commit' | 'skip_commit' | 'alert';
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
  /** Sanity validation (libs/crdt `validateWorkspace`); bodies of tombstoned files are history. */
  validate(ws: LoadedWorkspace): ValidationOutcome;
  /**
   * Repairs in place (libs/crdt `planRepairs`): structure only, body text never changes. Orphan
   * bodies younger than `orphanGraceMs` (age from their first stored update) are left alone.
   */
  planRepairs(ws: LoadedWorkspace, now: number, orphanGraceMs: number): Promise<WorkspaceRepairPlan>;
  /** Feeds one outcome into the health tracker restored from `tracker`. */
  decide(tracker: Record<string, unknown>, ok: boolean, threshold: number): HealthDecision;
  /**
   * The files a rebuild restores (docs/self-healing.md): every live file that can still be read,
   * plus each file of the last good commit whose workspace entry was lost; a body doc whose
   * snapshot was lost (`lostBase`, doc ids) gets the commit's text back in front of what was read.
   */
  rebuildTarget(ws: LoadedWorkspace, commitFiles: RepoFile[], lostBase: ReadonlySet<string>): RepoFile[];
  /**
   * Forward updates (doc id → Yjs update) that make the workspace's live files equal to `files`
   * (markdown with frontmatter): changed metadata/bodies are rewritten, files absent from `files`
   * become tombstones. Empty map when nothing differs. `addOnly` (a rebuild): nothing gets a
   * tombstone — not live files absent from `files`, not entries without a path, not orphan body
   * docs; repair in place deals with those afterwards.
   */
  planRestore(
    ws: LoadedWorkspace,
    files: RepoFile[],
    options?: { addOnly?: boolean },
  ): Map<string, Uint8Array>;
}
