import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { bodyDocId, workspaceDocId } from '@diaryx-sync/crdt';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import type { VersionResponse } from './versions.controller';
import { VersionsService } from './versions.service';
import { WorkspaceAccessService } from './workspace-access.service';
import { WorkspaceFilesService } from './workspace-files.service';

/** Versions of one file at most (newest first). */
const MAX_FILE_VERSIONS = 1000;

/**
 * `GET /api/workspaces/{id}/files/{path}/versions`: the history of one file, newest first: the
 * workspace-doc updates that changed its metadata and the updates of its body doc, each with
 * `doc` (which log it is in) plus the fields of `GET …/versions` (user, device, …). Registered
 * before the files controller so that `…/versions` is not read as part of the path.
 */
@Controller('api/workspaces/:id/files')
@UseGuards(BearerAuthGuard)
export class FileVersionsController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly versions: VersionsService,
  ) {}

  @Get('*path/versions')
  async list(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('path') rawPath: unknown,
  ): Promise<{ path: string; versions: (VersionResponse & { doc: string })[] }> {
    await this.access.require(claims, id, 'read');
    const joined = Array.isArray(rawPath) ? rawPath.join('/') : typeof rawPath === 'string' ? rawPath : '';
    const path = WorkspaceFilesService.checkPath(joined);
    const wsDoc = workspaceDocId(id);
    const bodyDoc = bodyDocId(id, path);
    const [meta, body] = await Promise.all([
      this.versions.list(claims.tid, wsDoc, { limit: Number.MAX_SAFE_INTEGER }),
      this.versions.list(claims.tid, bodyDoc, { limit: MAX_FILE_VERSIONS }),
    ]);
    const entries = [
      ...meta.filter((e) => e.files_changed.includes(path)).map((e) => ({ ...e, doc: wsDoc })),
      ...body.map((e) => ({ ...e, doc: bodyDoc })),
    ]
      .sort((a, b) => b.update_id - a.update_id)
      .slice(0, MAX_FILE_VERSIONS);
    return {
      path,
      versions: entries.map((e) => ({
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
