/** Entry point: one object per process giving the repository of any workspace. */
import type { Pool } from 'pg';
import type { ObjectStorage } from '@diaryx-sync/objstore';
import { RefStore } from './refs/ref-store';
import { ensureGitStoreSchema } from './refs/schema';
import { WorkspaceRepository } from './git/workspace-repository';

/** Repositories of all workspaces: objects in `storage`, refs in `pool`. */
export class GitStore {
  readonly refs: RefStore;

  constructor(
    readonly storage: ObjectStorage,
    private readonly pool: Pool,
  ) {
    this.refs = new RefStore(pool);
  }

  /** Creates the refs table when missing (run once at start-up). */
  migrate(): Promise<void> {
    return ensureGitStoreSchema(this.pool);
  }

  /** The repository of `{tenant}/{workspace}` (cheap; no I/O). */
  repository(tenant: string, workspace: string): WorkspaceRepository {
    return new WorkspaceRepository(this.storage, this.refs, tenant, workspace);
  }
}
