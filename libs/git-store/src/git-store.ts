/** Entry point: one object per process giving the repository of any workspace. */
import type { Pool } from 'pg';
import { gitPrefix, type ObjectStorage, workspacePrefix } from '@diaryx-sync/objstore';
import { RefStore } from './refs/ref-store';
import { ensureGitStoreSchema } from './refs/schema';
import { WorkspaceRepository } from './git/workspace-repository';
import { DEFAULT_OBJECT_CACHE_BYTES, GitObjectCache } from './git/s3-object-backend';

/** Options of {@link GitStore}. */
export interface GitStoreOptions {
  /** Size of the in-process git object cache (default {@link DEFAULT_OBJECT_CACHE_BYTES}). */
  objectCacheBytes?: number;
}

/** Repositories of all workspaces: objects in `storage`, refs in `pool`. */
export class GitStore {
  readonly refs: RefStore;
  private readonly cache: GitObjectCache;

  constructor(
    readonly storage: ObjectStorage,
    private readonly pool: Pool,
    options: GitStoreOptions = {},
  ) {
    this.refs = new RefStore(pool);
    this.cache = new GitObjectCache(options.objectCacheBytes ?? DEFAULT_OBJECT_CACHE_BYTES);
  }

  /** Creates the refs table when missing (run once at start-up). */
  migrate(): Promise<void> {
    return ensureGitStoreSchema(this.pool);
  }

  /** The repository of `{tenant}/{workspace}` (cheap; no I/O). */
  repository(tenant: string, workspace: string): WorkspaceRepository {
    return new WorkspaceRepository(this.storage, this.refs, tenant, workspace, this.cache);
  }

  /**
   * Forgets a deleted workspace's history so that a new workspace with the same id starts
   * empty: refs, health row, and every S3 object of the workspace (git objects, rebuild backups,
   * pending imports; docs/workspace-deletion.md). Audit rows are kept.
   */
  async deleteWorkspace(tenant: string, workspace: string): Promise<void> {
    await this.forgetWorkspace(tenant, workspace);
    await this.purgeObjects(tenant, workspace);
  }

  /**
   * The PostgreSQL half of {@link deleteWorkspace}: drops the refs and the health row. Once this
   * returned, the workspace has no history; its objects are unreachable garbage.
   */
  async forgetWorkspace(tenant: string, workspace: string): Promise<void> {
    await this.refs.deleteWorkspace(tenant, workspace);
    await this.pool.query('DELETE FROM workspace_health WHERE tenant = $1 AND workspace = $2', [
      tenant,
      workspace,
    ]);
  }

  /**
   * The S3 half of {@link deleteWorkspace}: deletes every object under `{tenant}/{workspace}/`
   * (git objects, backups, imports). Attachments are the tenant's (shared by content across its
   * workspaces): the attachment GC removes those no workspace references any more.
   */
  async purgeObjects(tenant: string, workspace: string): Promise<void> {
    this.cache.forget(gitPrefix(tenant, workspace));
    for (const key of await this.storage.list(workspacePrefix(tenant, workspace)))
      await this.storage.delete(key);
  }
}
