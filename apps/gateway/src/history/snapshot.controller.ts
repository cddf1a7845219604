/**
 * Zip snapshots (docs/protocol.md#http-api): `GET …/snapshot[?commit_id=]` streams the materialized markdown
 * files (current state, or a commit); `POST …/snapshot?mode=replace|merge` imports a zip (raw
 * request body or the `file` field of a multipart/form-data upload, received into a temp file
 * and checked entry by entry) — hostile or oversize
 * archives get 400 and nothing changes; more concurrent imports than `ImportSlots` allows get 429
 * with `Retry-After` before their body is read.
 */
import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { AcceptsBody } from '../api/accepts-body';
import { ApiError } from '../api/api-error';
import { ErrorResponses, JsonResponse } from '../api/openapi-decorators';
import { WorkspaceAccessService } from '../api/workspace-access.service';
import { HISTORY_CONFIG, type HistoryConfig } from './history-config';
import { ImportSlots } from './import-slots';
import { isMultipartUpload, receiveMultipartUpload } from './multipart-upload';
import { receiveUpload, type TempUpload } from './upload-file';
import { WorkspaceHistoryService } from './workspace-history.service';

/** Answer of a zip import. */
export interface ImportResponse {
  mode: 'replace' | 'merge';
  status: 'restored' | 'unchanged';
  docs_updated: number;
  files: number;
}

const importResponseSchema = z.object({
  mode: z.enum(['replace', 'merge']),
  status: z.enum(['restored', 'unchanged']),
  docs_updated: z.number().int(),
  files: z.number().int(),
});

@Controller('api/workspaces/:id/snapshot')
@UseGuards(BearerAuthGuard)
@ApiTags('history')
@ApiBearerAuth('bearer')
@ErrorResponses(401, 404)
export class SnapshotController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly history: WorkspaceHistoryService,
    private readonly slots: ImportSlots,
    @Inject(HISTORY_CONFIG) private readonly config: HistoryConfig,
  ) {}

  @Get()
  @ApiQuery({ name: 'commit_id', required: false, schema: { type: 'string' } })
  @ApiProduces('application/zip')
  @ApiResponse({
    status: 200,
    description: 'the materialized markdown files as a zip',
    content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } },
  })
  @ErrorResponses(400)
  async export(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('commit_id') commitId: unknown,
    @Res() res: Response,
  ): Promise<void> {
    await this.access.require(claims, id, 'read');
    if (commitId !== undefined && typeof commitId !== 'string')
      throw ApiError.badRequest('invalid commit_id', 'invalid_commit_id');
    const stream = await this.history.exportZip(claims.tid, id, commitId);
    res.status(200);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${id}${commitId ? `-${commitId.slice(0, 12)}` : ''}.zip"`,
    );
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  @Post()
  @HttpCode(200)
  @AcceptsBody('application/zip', 'application/octet-stream', 'multipart/form-data')
  @ApiQuery({ name: 'mode', required: false, schema: { type: 'string', enum: ['merge', 'replace'] } })
  @JsonResponse(200, 'imported', importResponseSchema)
  @ErrorResponses(400, 403, 413, 415, 429, 503)
  async import(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('mode') mode: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ImportResponse> {
    await this.access.require(claims, id, 'write');
    const m = mode === undefined ? 'merge' : mode;
    if (m !== 'replace' && m !== 'merge')
      throw ApiError.badRequest('mode must be "replace" or "merge"', 'invalid_mode');
    const release = await this.slots.tryAcquire(claims.tid);
    if (!release) {
      // Refused before the body is read: do not keep the connection for the rest of it.
      res.setHeader('Retry-After', String(this.config.SNAPSHOT_IMPORT_RETRY_AFTER_S));
      res.setHeader('Connection', 'close');
      throw new ApiError(429, 'too_many_imports', 'too many zip imports are running; retry later');
    }
    try {
      let upload: TempUpload;
      try {
        const max = this.history.limits().maxZipBytes;
        upload = isMultipartUpload(req)
          ? await receiveMultipartUpload(req, max, 'zip')
          : await receiveUpload(req, max, 'zip');
      } catch (err) {
        res.setHeader('Connection', 'close');
        throw err;
      }
      try {
        const result = await this.history.importZip(claims.tid, id, upload.file, m, claims.sub);
        return { mode: m, status: result.status, docs_updated: result.docs_updated, files: result.files };
      } finally {
        await upload.dispose();
      }
    } finally {
      await release();
    }
  }
}
