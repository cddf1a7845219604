import { Injectable } from '@nestjs/common';
import { AuthService } from '../auth/auth.service';
import { WORKSPACE_ID_PATTERN } from '@diaryx-sync/crdt';
import { type TokenClaims, type WorkspaceAccessLevel } from '../auth/token-claims';
import { type Workspace, WorkspaceStore } from '../tenancy/workspace.store';
import { ApiError } from './api-error';

/**
 * The one authorization rule of the `/api/workspaces/{id}/…` routes (docs/protocol.md#http-api), shared by
 * every controller that serves them: 404 `not_found` for a malformed id, a workspace outside the
 * token's `ws`, or one that does not exist in the token's tenant (indistinguishable on purpose);
 * then 403 `forbidden` when the role lacks `level` (read: any role; write: editor, admin;
 * admin: admin).
 */
@Injectable()
export class WorkspaceAccessService {
  constructor(
    private readonly auth: AuthService,
    private readonly workspaces: WorkspaceStore,
  ) {}

  /** Resolves the caller's workspace or throws the fitting {@link ApiError}. */
  async require(claims: TokenClaims, workspaceId: string, level: WorkspaceAccessLevel): Promise<Workspace> {
    const notFound = ApiError.notFound(`workspace "${truncate(workspaceId)}" not found`);
    if (!WORKSPACE_ID_PATTERN.test(workspaceId)) throw notFound;
    if (!this.auth.canAccessWorkspace(claims, workspaceId)) throw notFound;
    const workspace = await this.workspaces.get(claims.tid, workspaceId);
    if (!workspace) throw notFound;
    if (!this.auth.hasLevel(claims, level)) throw ApiError.forbidden(`role "${claims.role}" may not do this`);
    return workspace;
  }
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}…` : value;
}
