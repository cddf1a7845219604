/**
 * Per-doc authorization of a WebSocket connection (docs/protocol.md#server-behaviour-per-document): the doc's workspace must be covered by the token's `ws` claim AND exist in the
 * token's tenant. Both failures look the same to the client (close 4403 / HTTP 403).
 */
import type { TokenClaims } from '../auth/token-claims';

/** Answers whether a workspace exists in a tenant (the gateway's `WorkspaceStore`). */
export interface WorkspaceExistence {
  exists(tenantId: string, workspaceId: string): Promise<boolean>;
}

/** Answers whether a token covers a workspace id (the gateway's `AuthService`). */
export interface WorkspaceCoverage {
  canAccessWorkspace(claims: TokenClaims, workspaceId: string): boolean;
}

/** See module doc. */
export class DocAuthorizer {
  constructor(
    private readonly coverage: WorkspaceCoverage,
    private readonly workspaces: WorkspaceExistence,
  ) {}

  /** True when `claims` may use docs of `workspaceId` (any role may read). */
  async mayUseWorkspace(claims: TokenClaims, workspaceId: string): Promise<boolean> {
    if (!this.coverage.canAccessWorkspace(claims, workspaceId)) return false;
    return this.workspaces.exists(claims.tid, workspaceId);
  }
}
