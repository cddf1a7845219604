import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { bodyDocId, workspaceDocId } from '@diaryx-sync/crdt';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { pageOf, Paginated, parsePage } from './pagination';
import { VERSION_PAGE_LIMITS, versionCursor, type VersionResponse } from './versions.controller';
import { VersionsService } from './versions.service';
import { WorkspaceAccessService } from './workspace-access.service';
import { WorkspaceFilesService } from './workspace-files.service';

/**
 * `GET /api/workspaces/{id}/files/{path}/versions`: the history of one file, newest first: the
 * workspace-doc updates that changed its metadata and the updates of its body doc, each with
 * `doc` (which log it is in) plus the fields of `GET …/versions` (user, device, …), one page at a
 * time (`limit`, `cursor`, `next_cursor`, as `GET …/versions`). Registered before the files
 * controller so that `…/versions` is not read as part of the path.
 */
@Controller('api/workspaces/:id/files')
@UseGuards(BearerAuthGuard)
export class FileVersionsController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly versions: VersionsService,
  ) {}

  @Get('*path/versions')
  @Paginated(VERSION_PAGE_LIMITS)
  async list(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('path') rawPath: unknown,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ path: string; versions: (VersionResponse & { doc: string })[]; next_cursor: string | null }> {
    await this.access.require(claims, id, 'read');
    const joined = Array.isArray(rawPath) ? rawPath.join('/') : typeof rawPath === 'string' ? rawPath : '';
    const path = WorkspaceFilesService.checkPath(joined);
    const page = parsePage({ limit, cursor }, versionCursor, VERSION_PAGE_LIMITS);
    const beforeId = page.after?.[0];
    const wsDoc = workspaceDocId(id);
    const bodyDoc = bodyDocId(id, path);
    const [meta, body] = await Promise.all([
      this.versions.list(claims.tid, wsDoc, { beforeId, limit: Number.MAX_SAFE_INTEGER }),
      this.versions.list(claims.tid, bodyDoc, { beforeId, limit: page.limit + 1 }),
    ]);
    // update ids come from one sequence for every doc: one newest-first order across both logs
    const merged = [
      ...meta.filter((e) => e.files_changed.includes(path)).map((e) => ({ ...e, doc: wsDoc })),
      ...body.map((e) => ({ ...e, doc: bodyDoc })),
    ].sort((a, b) => b.update_id - a.update_id);
    const { items, next_cursor } = pageOf(merged, page.limit, (e) => [e.update_id]);
    return {
      path,
      next_cursor,
      versions: items.map((e) => ({
        doc: e.doc,
        update_id: e.update_id,
        timestamp: new Date(e.timestamp).toISOString(),
        origin: e.origin,
        device_id: e.device_id,
        device_name: e.device_name,
        user: e.user,
        files_changed: e.files_changed,
      })),
    };
  }
}
