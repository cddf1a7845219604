/**
 * Plain HTTP `GET /sync2` and `GET /yjs/{docId}` (no WebSocket upgrade): answered with the same
 * checks as the upgrade (docs/protocol.md#the-multiplexed-endpoint-sync2 and #the-y-websocket-endpoint-yjsdocid), so a client learns why it cannot connect:
 * 401 for a missing/invalid/expired token, on /yjs 400 for a malformed doc id and 403 for a
 * forbidden doc, otherwise 426 Upgrade Required. Real upgrades never reach this controller
 * (the `SyncServer` takes them on the HTTP server's `upgrade` event).
 */
import { Controller, Get, Req, Res } from '@nestjs/common';
import { DocIdError, parseDocId } from '@diaryx-sync/crdt';
import type { Request, Response } from 'express';
import { ApiError } from '../api/api-error';
import { AuthService } from '../auth/auth.service';
import type { TokenClaims } from '../auth/token-claims';
import { WorkspaceStore } from '../tenancy/workspace.store';
import { DocAuthorizer } from './doc-authorizer';
import { upgradeTarget, upgradeToken } from './upgrade-request';

/** See module doc. */
@Controller()
export class SyncHttpController {
  private readonly authorizer: DocAuthorizer;

  constructor(
    private readonly auth: AuthService,
    workspaces: WorkspaceStore,
  ) {
    this.authorizer = new DocAuthorizer(auth, workspaces);
  }

  @Get('sync2')
  async sync2(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<never> {
    await this.claims(req);
    throw upgradeRequired(res);
  }

  @Get('yjs/*docId')
  async yjs(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<never> {
    const claims = await this.claims(req);
    const target = upgradeTarget(req);
    const docId = target?.endpoint === 'yjs' ? target.docId : null;
    let workspaceId: string;
    try {
      if (docId === null) throw new Error('bad doc id encoding');
      workspaceId = parseDocId(docId).workspaceId;
    } catch (err) {
      if (!(err instanceof DocIdError)) throw ApiError.badRequest('bad doc id', 'bad_doc_id');
      throw ApiError.badRequest(err.message, err.kind === 'unsafe_path' ? 'unsafe_path' : 'bad_doc_id');
    }
    if (!(await this.authorizer.mayUseWorkspace(claims, workspaceId))) throw ApiError.forbidden('forbidden');
    throw upgradeRequired(res);
  }

  private async claims(req: Request): Promise<TokenClaims> {
    const token = upgradeToken(req);
    if (!token) throw ApiError.unauthorized('missing token');
    try {
      return await this.auth.verify(token);
    } catch (err) {
      throw ApiError.unauthorized((err as Error).message || 'invalid token');
    }
  }
}

/** 426 with `Upgrade: websocket` (the header is set on `res`, the error renders the body). */
function upgradeRequired(res: Response): ApiError {
  res.setHeader('Upgrade', 'websocket');
  return new ApiError(
    426,
    'upgrade_required',
    'this is a WebSocket endpoint: connect with an Upgrade: websocket request',
  );
}
