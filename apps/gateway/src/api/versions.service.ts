import { Injectable } from '@nestjs/common';
import { ClusterClient, ClusterRequestError } from '@diaryx-sync/bus';
import { type FileDiff, HistoryManager, type HistoryEntry } from '@diaryx-sync/crdt';
import { ApiError } from './api-error';
import { WorkspaceDocumentsService } from './workspace-documents.service';

/** Outcome of {@link VersionsService.restore}. */
export interface RestoreOutcome {
  /** False when the doc already equals that version (nothing was sent). */
  changed: boolean;
}

/**
 * Version history of one tenant's docs (the update log, read through `HistoryManager` of
 * `@diaryx-sync/crdt`) and restore-to-version as a FORWARD update applied by the doc's owning
 * shard through `ClusterClient`, so connected clients converge and the log keeps everything.
 */
@Injectable()
export class VersionsService {
  constructor(
    private readonly documents: WorkspaceDocumentsService,
    private readonly cluster: ClusterClient,
  ) {}

  /** Up to `limit` versions of `docId` in the tenant with an id below `beforeId`, newest first. */
  async list(
    tenantId: string,
    docId: string,
    page: { beforeId?: number; limit: number },
  ): Promise<HistoryEntry[]> {
    const all = await new HistoryManager(this.documents.storageFor(tenantId)).getHistory(docId);
    const { beforeId } = page;
    return (beforeId === undefined ? all : all.filter((e) => e.update_id < beforeId)).slice(0, page.limit);
  }

  /**
   * The last update id of `docId` folded into its snapshot (0: none): older history is in git
   * (docs/protocol.md#compaction-after-commit).
   */
  compactedThrough(tenantId: string, docId: string): Promise<number> {
    return this.documents.storageFor(tenantId).getCompactedThrough(docId);
  }

  /** Per-file differences of `docId` between two of its versions, with the metadata at both. */
  diff(tenantId: string, docId: string, fromId: number, toId: number): Promise<FileDiff[]> {
    return new HistoryManager(this.documents.storageFor(tenantId)).diff(docId, fromId, toId);
  }

  /**
   * Restores `docId` to its state as of update `updateId`.
   * @throws ApiError 404 `version_not_found` when the id is newer than the doc's latest update
   *   (or the doc has none); 503 `unavailable` when no shard owner applied it in time.
   */
  async restore(tenantId: string, docId: string, updateId: number): Promise<RestoreOutcome> {
    const storage = this.documents.storageFor(tenantId);
    const latest = await storage.getLatestUpdateId(docId);
    if (latest === 0 || updateId > latest) {
      throw new ApiError(404, 'version_not_found', `version ${updateId} of ${docId} not found`);
    }
    const { update, changed } = await new HistoryManager(storage).computeRestoreUpdate(docId, updateId);
    if (!changed) return { changed: false };
    try {
      await this.cluster.applyUpdate({ tenant: tenantId, docId, update, origin: 'restore' });
    } catch (err) {
      if (err instanceof ClusterRequestError) {
        if (err.code === 'not_found') throw ApiError.notFound(`document ${docId} not found`);
        throw new ApiError(
          503,
          'unavailable',
          `the document is temporarily unavailable (${err.code}); retry later`,
        );
      }
      throw err;
    }
    return { changed: true };
  }
}
