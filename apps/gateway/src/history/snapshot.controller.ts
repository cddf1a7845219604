/**
 * Zip snapshots (docs/protocol.md#http-api): `GET …/snapshot[?commit_id=]` streams the materialized markdown
 * files (current state, or a commit); `POST …/snapshot?mode=replace|merge` imports a zip (raw
 * request body) — hostile or oversize archives get 400 and nothing changes.
 */
import { Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { ApiError } from '../api/api-error';
import { WorkspaceAccessService } from '../api/workspace-access.service';
import { WorkspaceHistoryService } from './workspace-history.service';

/** Answer of a zip import. */
export interface ImportResponse {
  mode: 'replace' | 'merge';
  status: 'restored' | 'unchanged';
  docs_updated: number;
  files: number;
}

@Controller('api/workspaces/:id/snapshot')
@UseGuards(BearerAuthGuard)
export class SnapshotController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly history: WorkspaceHistoryService,
  ) {}

  @Get()
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
  async import(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('mode') mode: unknown,
    @Req() req: Request,
  ): Promise<ImportResponse> {
    await this.access.require(claims, id, 'write');
    const m = mode === undefined ? 'merge' : mode;
    if (m !== 'replace' && m !== 'merge')
      throw ApiError.badRequest('mode must be "replace" or "merge"', 'invalid_mode');
    const zip = await readBody(req, this.history.limits().maxZipBytes);
    const result = await this.history.importZip(claims.tid, id, zip, m, claims.sub);
    return { mode: m, status: result.status, docs_updated: result.docs_updated, files: result.files };
  }
}

/** Reads the raw request body, refusing more than `max` bytes (400 `too_large`). */
function readBody(req: Request, max: number): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) {
    if (req.body.length > max)
      return Promise.reject(ApiError.badRequest(`zip is larger than ${max} bytes`, 'too_large'));
    return Promise.resolve(req.body);
  }
  if (req.readableEnded) {
    // A body parser consumed it (JSON/form content type): not a zip upload.
    return Promise.reject(
      ApiError.badRequest('send the zip as the raw body (Content-Type: application/zip)', 'invalid_zip'),
    );
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max)
    return Promise.reject(ApiError.badRequest(`zip is larger than ${max} bytes`, 'too_large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > max) {
        failed = true;
        reject(ApiError.badRequest(`zip is larger than ${max} bytes`, 'too_large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(ApiError.badRequest(`upload failed: ${err.message}`, 'invalid_zip'));
    });
  });
}
