import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { type FileDiff, isDocId, parseDocId, workspaceDocId } from '@diaryx-sync/crdt';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { ApiError } from './api-error';
import { parseRequest } from './request-validation';
import { ErrorResponses, JsonResponse } from './openapi-decorators';
import { type PageLimits, Paginated, pageOf, pageSchema, parsePage } from './pagination';
import { VersionsService } from './versions.service';
import { WorkspaceAccessService } from './workspace-access.service';

/** One entry of `GET /api/workspaces/{id}/versions`. */
export interface VersionResponse {
  update_id: number;
  timestamp: string;
  origin: string;
  device_id: string | null;
  device_name: string | null;
  user: string | null;
  files_changed: string[];
}

/** Answer of the restore endpoint. */
export interface RestoreResponse {
  doc: string;
  restored_to: number;
  /** False when the doc already had that content (no update was applied). */
  changed: boolean;
}

/** Versions per page: 1000 by default, at most 10,000. */
export const VERSION_PAGE_LIMITS: PageLimits = { defaultLimit: 1000, maxLimit: 10_000 };
export const versionCursor = z.tuple([z.number().int().positive()]);
const versionSchema = z.object({
  update_id: z.number().int(),
  timestamp: z.string().datetime(),
  origin: z.string(),
  device_id: z.string().nullable(),
  device_name: z.string().nullable(),
  user: z.string().nullable(),
  files_changed: z.array(z.string()),
});
const restoreSchema = z.object({ doc: z.string(), restored_to: z.number().int(), changed: z.boolean() });
const DocQuery = () =>
  ApiQuery({
    name: 'doc',
    required: false,
    description: 'canonical doc id of this workspace (default `workspace:{id}`)',
    schema: { type: 'string' },
  });

/**
 * Versions of a workspace's docs (docs/protocol.md#http-api). `doc` defaults to the workspace doc
 * `workspace:{id}`; it must be a canonical doc id of this workspace (`workspace:{id}` or
 * `body:{id}/{path}`, URL-encoded in the query), otherwise 400 `invalid_doc`.
 */
@Controller('api/workspaces/:id/versions')
@UseGuards(BearerAuthGuard)
@ApiTags('versions')
@ApiBearerAuth('bearer')
@ErrorResponses(401, 404)
export class VersionsController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly versions: VersionsService,
  ) {}

  /**
   * `GET /api/workspaces/{id}/versions[?doc=][&limit=][&cursor=]` (any role) → newest first
   * (descending `update_id`), one page at a time.
   */
  @Get()
  @DocQuery()
  @Paginated(VERSION_PAGE_LIMITS)
  @JsonResponse(
    200,
    'one page of versions, newest first',
    pageSchema('versions', versionSchema).extend({
      compacted_through: z
        .number()
        .int()
        .describe('updates up to this id are folded into the snapshot: older history is in the commits'),
    }),
  )
  @ErrorResponses(400)
  async list(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('doc') doc: unknown,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ versions: VersionResponse[]; next_cursor: string | null; compacted_through: number }> {
    await this.access.require(claims, id, 'read');
    const docId = resolveDoc(id, doc);
    const page = parsePage({ limit, cursor }, versionCursor, VERSION_PAGE_LIMITS);
    const fetched = await this.versions.list(claims.tid, docId, {
      beforeId: page.after?.[0],
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageOf(fetched, page.limit, (e) => [e.update_id]);
    return {
      next_cursor,
      // update-level history starts after this id; older states are in the commits (GET …/history)
      compacted_through: await this.versions.compactedThrough(claims.tid, docId),
      versions: items.map((e) => ({
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

  /**
   * `GET /api/workspaces/{id}/versions/diff?from=&to=[&doc=]`: per-file differences between two
   * versions of a doc, each with the file's metadata at both (`old`, `new`; null where absent).
   */
  @Get('diff')
  @DocQuery()
  @JsonResponse(200, 'per-file differences', z.object({ doc: z.string(), files: z.array(z.unknown()) }))
  @ErrorResponses(400)
  async diff(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('doc') doc: unknown,
    @Query('from') from: unknown,
    @Query('to') to: unknown,
  ): Promise<{ doc: string; files: FileDiff[] }> {
    await this.access.require(claims, id, 'read');
    const docId = resolveDoc(id, doc);
    const ids = z.object({ from: z.coerce.number().int().min(0), to: z.coerce.number().int().min(0) });
    const parsed = parseRequest(ids, { from, to });
    return { doc: docId, files: await this.versions.diff(claims.tid, docId, parsed.from, parsed.to) };
  }

  /** `POST /api/workspaces/{id}/versions/{updateId}/restore[?doc=]` (editor, admin). */
  @Post(':updateId/restore')
  @HttpCode(200)
  @DocQuery()
  @JsonResponse(200, 'restored (a forward update applied, persisted and broadcast)', restoreSchema)
  @ErrorResponses(400, 403, 503)
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
