import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { isDocId, parseDocId, workspaceDocId } from '@diaryx-sync/crdt';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { ApiError } from './api-error';
import { VersionsService } from './versions.service';
import { WorkspaceAccessService } from './workspace-access.service';

/** One entry of `GET /api/workspaces/{id}/versions`. */
export interface VersionResponse {
  update_id: number;
  timestamp: string;
  origin: string;
  device_id: string | null;
  files_changed: string[];
}

/** Answer of the restore endpoint. */
export interface RestoreResponse {
  doc: string;
  restored_to: number;
  /** False when the doc already had that content (no update was applied). */
  changed: boolean;
}

const MAX_LIMIT = 10_000;

/**
 * Versions of a workspace's docs (docs/protocol.md#http-api). `doc` defaults to the workspace doc
 * `workspace:{id}`; it must be a canonical doc id of this workspace (`workspace:{id}` or
 * `body:{id}/{path}`, URL-encoded in the query), otherwise 400 `invalid_doc`.
 */
@Controller('api/workspaces/:id/versions')
@UseGuards(BearerAuthGuard)
export class VersionsController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly versions: VersionsService,
  ) {}

  /** `GET /api/workspaces/{id}/versions[?doc=][&limit=]` (any role) → newest first. */
  @Get()
  async list(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('doc') doc: unknown,
    @Query('limit') limit: unknown,
  ): Promise<{ versions: VersionResponse[] }> {
    await this.access.require(claims, id, 'read');
    const docId = resolveDoc(id, doc);
    const entries = await this.versions.list(claims.tid, docId, parseLimit(limit));
    return {
      versions: entries.map((e) => ({
        update_id: e.update_id,
        timestamp: new Date(e.timestamp).toISOString(),
        origin: e.origin,
        device_id: e.device_id,
        files_changed: e.files_changed,
      })),
    };
  }

  /** `POST /api/workspaces/{id}/versions/{updateId}/restore[?doc=]` (editor, admin). */
  @Post(':updateId/restore')
  @HttpCode(200)
  async restore(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('updateId') updateIdParam: string,
    @Query('doc') doc: unknown,
  ): Promise<RestoreResponse> {
    await this.access.require(claims, id, 'write');
    const docId = resolveDoc(id, doc);
    if (!/^[1-9][0-9]{0,15}$/.test(updateIdParam) || !Number.isSafeInteger(Number(updateIdParam))) {
      throw ApiError.badRequest(`invalid update id "${updateIdParam.slice(0, 40)}"`, 'invalid_request');
    }
    const updateId = Number(updateIdParam);
    const { changed } = await this.versions.restore(claims.tid, docId, updateId);
    return { doc: docId, restored_to: updateId, changed };
  }
}

function resolveDoc(workspaceId: string, doc: unknown): string {
  if (doc === undefined || doc === '') return workspaceDocId(workspaceId);
  if (typeof doc !== 'string') throw ApiError.badRequest('doc must be given once', 'invalid_doc');
  const parsed = isDocId(doc) ? parseDocId(doc) : null;
  if (!parsed) throw ApiError.badRequest(`"${doc.slice(0, 300)}" is not a canonical doc id`, 'invalid_doc');
  if (parsed.workspaceId !== workspaceId) {
    throw ApiError.badRequest(
      `doc "${doc.slice(0, 300)}" does not belong to workspace "${workspaceId}"`,
      'invalid_doc',
    );
  }
  return doc;
}

function parseLimit(limit: unknown): number | undefined {
  if (limit === undefined) return undefined;
  if (
    typeof limit !== 'string' ||
    !/^[0-9]{1,6}$/.test(limit) ||
    Number(limit) < 1 ||
    Number(limit) > MAX_LIMIT
  ) {
    throw ApiError.badRequest(`limit must be an integer between 1 and ${MAX_LIMIT}`, 'invalid_request');
  }
  return Number(limit);
}
