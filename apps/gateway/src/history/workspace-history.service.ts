/**
 * The history operations behind the HTTP API. Reads (log, snapshot export, git objects) are
 * served by the gateway directly from S3/PostgreSQL; changes (commit, restore, zip import) are
 * jobs of the history worker (per-workspace mutual exclusion, forward updates through the
 * owning shard), which the gateway queues and waits for.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { listInstances, HistoryJobError, HistoryQueues, type RestoreJobResult } from '@diaryx-sync/bus';
import { AttachmentStore, ObjectStorage, importKey } from '@diaryx-sync/objstore';
import {
  GitStore,
  checkWorkspaceZip,
  loadWorkspaceStates,
  materializeStates,
  UnknownCommitError,
  withAttachmentFiles,
  workspaceZipStream,
  ZipImportError,
  type CommitSummary,
  type ZipLimits,
} from '@diaryx-sync/git-store';
import { ApiError } from '../api/api-error';
import { WorkspaceDocumentsService } from '../api/workspace-documents.service';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { REDIS } from '../infra/infra.tokens';
import { HISTORY_CONFIG, type HistoryConfig } from './history-config';
import type { RedisClient } from '@diaryx-sync/runtime';

const COMMIT_ID = /^[0-9a-f]{40}$/;

/** 200 body of `POST …/commit`. */
export interface CommitResponse {
  commit_id: string;
  files: number;
}

@Injectable()
export class WorkspaceHistoryService {
  constructor(
    private readonly git: GitStore,
    private readonly objects: ObjectStorage,
    @Inject(HistoryQueues) private readonly queues: HistoryQueues,
    private readonly documents: WorkspaceDocumentsService,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(HISTORY_CONFIG) private readonly history: HistoryConfig,
  ) {}

  /**
   * Newest-first commits (count clamped to 1..101: a page of up to 100 plus one to know whether
   * more follow), after commit `after` (exclusive) when given.
   * @throws UnknownCommitError when `after` is not a commit of the workspace.
   */
  log(tenant: string, workspace: string, count: number, after?: string): Promise<CommitSummary[]> {
    return this.git.repository(tenant, workspace).log(Math.min(101, Math.max(1, count)), after);
  }

  /** Commits now (history worker job). */
  async commit(tenant: string, workspace: string, requestedBy: string): Promise<CommitResponse> {
    await this.requireWorker();
    const result = await this.run(() =>
      this.queues.commitNow(tenant, workspace, requestedBy, this.history.HISTORY_JOB_TIMEOUT_MS),
    );
    if (result.status === 'committed') return { commit_id: result.commit_id, files: result.files };
    if (result.status === 'nothing_to_commit') {
      throw ApiError.conflict('the workspace equals the last commit', 'nothing_to_commit', {
        commit_id: result.commit_id,
      });
    }
    throw ApiError.conflict('the workspace failed validation; nothing was committed', 'validation_failed', {
      issues: result.issues,
      action: result.action,
    });
  }

  /** Restores the workspace to a commit as forward updates. */
  async restore(
    tenant: string,
    workspace: string,
    commitId: unknown,
    requestedBy: string,
  ): Promise<RestoreJobResult> {
    if (typeof commitId !== 'string' || !COMMIT_ID.test(commitId)) {
      throw ApiError.badRequest('commit_id must be a 40-character hex commit id', 'invalid_commit_id');
    }
    if (!(await this.git.repository(tenant, workspace).hasCommit(commitId))) {
      throw ApiError.notFound(`commit ${commitId} not found`);
    }
    await this.requireWorker();
    return this.run(() =>
      this.queues.restoreNow(
        { tenant, workspace, requestedBy, source: { kind: 'commit', commitId } },
        this.history.HISTORY_JOB_TIMEOUT_MS,
      ),
    );
  }

  /** A streamed zip of the materialized files: current state, or a commit. */
  async exportZip(tenant: string, workspace: string, commitId?: string): Promise<Readable> {
    if (commitId === undefined || commitId === '') {
      // Markdown plus the attachment bytes at their paths (docs/protocol.md#attachments).
      const states = await loadWorkspaceStates(this.documents.storageFor(tenant), workspace);
      return workspaceZipStream(
        await withAttachmentFiles(
          new AttachmentStore(this.objects),
          tenant,
          workspace,
          states,
          materializeStates(workspace, states),
        ),
      );
    }
    if (!COMMIT_ID.test(commitId))
      throw ApiError.badRequest('commit_id must be a 40-character hex commit id', 'invalid_commit_id');
    try {
      return workspaceZipStream(await this.git.repository(tenant, workspace).readFiles(commitId));
    } catch (err) {
      if (err instanceof UnknownCommitError) throw ApiError.notFound(`commit ${commitId} not found`);
      throw err;
    }
  }

  /**
   * Imports a zip received into `zipFile` (a temp file of the caller): checked here by streaming
   * it from disk (400 on hostile or oversize archives, nothing changes), then stored in S3 and
   * applied by the worker.
   */
  async importZip(
    tenant: string,
    workspace: string,
    zipFile: string,
    mode: string,
    requestedBy: string,
  ): Promise<RestoreJobResult> {
    if (mode !== 'replace' && mode !== 'merge')
      throw ApiError.badRequest('mode must be "replace" or "merge"', 'invalid_mode');
    try {
      const summary = await checkWorkspaceZip({ file: zipFile }, this.limits());
      if (summary.files === 0 && mode === 'merge')
        throw new ZipImportError('invalid_zip', 'the zip contains no markdown files');
    } catch (err) {
      if (err instanceof ZipImportError) throw ApiError.badRequest(err.message, err.code);
      throw err;
    }
    await this.requireWorker();
    const key = importKey(tenant, workspace, `${Date.now()}-${randomUUID()}.zip`);
    // Only an accepted zip is read into memory (≤ SNAPSHOT_MAX_ZIP_BYTES, one per import slot).
    await this.objects.put(key, await readFile(zipFile), 'application/zip');
    return this.run(() =>
      this.queues.restoreNow(
        { tenant, workspace, requestedBy, source: { kind: 'import', key, mode } },
        this.history.HISTORY_JOB_TIMEOUT_MS,
      ),
    );
  }

  /** The zip limits of the configuration. */
  limits(): ZipLimits {
    return {
      maxZipBytes: this.history.SNAPSHOT_MAX_ZIP_BYTES,
      maxTotalBytes: this.history.SNAPSHOT_MAX_TOTAL_BYTES,
      maxFileBytes: this.history.SNAPSHOT_MAX_FILE_BYTES,
      maxFiles: this.history.SNAPSHOT_MAX_FILES,
      maxEntries: this.history.SNAPSHOT_MAX_ENTRIES,
    };
  }

  /** 503 `history_unavailable` when no history worker is alive (jobs would only queue up). */
  private async requireWorker(): Promise<void> {
    const workers = await listInstances(this.redis, this.config.REDIS_PREFIX, 'history-worker').catch(
      () => [],
    );
    if (workers.length === 0)
      throw new ApiError(503, 'history_unavailable', 'no history worker is running; try again later');
  }

  private async run<T>(job: () => Promise<T>): Promise<T> {
    try {
      return await job();
    } catch (err) {
      if (err instanceof HistoryJobError) throw new ApiError(503, 'history_job_failed', err.message);
      throw err;
    }
  }
}
