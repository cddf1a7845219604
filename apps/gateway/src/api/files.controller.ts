import { Controller, Delete, Get, HttpCode, Param, Post, Put, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import { isDocId, parseDocId } from '@diaryx-sync/crdt';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { AcceptsBody } from './accepts-body';
import { ApiError } from './api-error';
import { ErrorResponses, JsonResponse } from './openapi-decorators';
import { readRawBody } from './raw-body';
import { parseRequest } from './request-validation';
import { WorkspaceAccessService } from './workspace-access.service';
import { WorkspaceFilesService, type WorkspaceFileWrite } from './workspace-files.service';

/** Largest `text/markdown` file body of `PUT …/files/{path}` (a JSON body has the JSON limit). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** Largest raw Yjs update of `POST /api/docs/{docId}/updates`. */
export const MAX_UPDATE_BYTES = 4 * 1024 * 1024;

/** JSON form of a file (`GET …/files/{path}` with `Accept: application/json`, the default). */
export interface FileResponse {
  path: string;
  frontmatter: Record<string, unknown>;
  body: string;
}

/** Answer of `PUT …/files/{path}`. */
export interface FileWriteResponse {
  path: string;
  created: boolean;
  /** Docs that received an update; empty when the file already had that content. */
  updated_docs: string[];
}

/** Answer of `POST /api/docs/{docId}/updates`. */
export interface DocUpdateResponse {
  doc: string;
  applied: true;
}

const fileResponseSchema = z.object({
  path: z.string(),
  frontmatter: z.record(z.unknown()),
  body: z.string(),
});
const fileWriteResponseSchema = z.object({
  path: z.string(),
  created: z.boolean(),
  updated_docs: z.array(z.string()),
});
const docUpdateResponseSchema = z.object({ doc: z.string(), applied: z.literal(true) });

const fileWriteSchema = z.object({
  body: z.string(),
  frontmatter: z.record(z.unknown()).optional(),
});

/** The file path of a `*path` route parameter (Express 5 gives the segments). */
function pathParam(raw: unknown): string {
  const joined = Array.isArray(raw) ? raw.join('/') : typeof raw === 'string' ? raw : '';
  return WorkspaceFilesService.checkPath(joined);
}

/**
 * Server-side document access of docs/protocol.md#http-api: one file of a workspace read as
 * frontmatter + body (JSON) or markdown, written as a minimal CRDT diff, or tombstoned. Same
 * roles as the sockets: any role reads, editor and admin write; the tenant is the token's.
 */
@ApiTags('files')
@ApiBearerAuth('bearer')
@ErrorResponses(401)
@Controller('api/workspaces/:id/files')
@UseGuards(BearerAuthGuard)
export class FilesController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly files: WorkspaceFilesService,
  ) {}

  /** `GET /api/workspaces/{id}/files/{path}` → JSON, or markdown with `Accept: text/markdown`. */
  @Get('*path')
  @ApiProduces('application/json', 'text/markdown')
  @JsonResponse(200, 'the file (or its markdown with `Accept: text/markdown`)', fileResponseSchema)
  @ErrorResponses(400, 404)
  async read(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('path') rawPath: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FileResponse | string> {
    await this.access.require(claims, id, 'read');
    const file = await this.files.read(claims.tid, id, pathParam(rawPath));
    if (req.accepts(['application/json', 'text/markdown']) === 'text/markdown') {
      res.type('text/markdown; charset=utf-8');
      return file.markdown;
    }
    return { path: file.path, frontmatter: file.frontmatter, body: file.body };
  }

  /**
   * `PUT /api/workspaces/{id}/files/{path}` (editor, admin): a markdown body (`text/markdown`), or
   * JSON `{"body", "frontmatter"?}`. Without frontmatter the file keeps its metadata. 201 when the
   * file was created, 200 otherwise; answers once every change is durable.
   */
  @Put('*path')
  @AcceptsBody('text/markdown', 'application/json')
  @JsonResponse(200, 'the file was updated (durable)', fileWriteResponseSchema)
  @JsonResponse(201, 'the file was created (durable)', fileWriteResponseSchema)
  @ErrorResponses(400, 403, 404, 413, 415, 503)
  async write(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('path') rawPath: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<FileWriteResponse> {
    await this.access.require(claims, id, 'write');
    const path = pathParam(rawPath);
    let input: WorkspaceFileWrite;
    if (req.is('application/json')) {
      input = parseRequest(fileWriteSchema, req.body);
    } else {
      const bytes = await readRawBody(req, MAX_FILE_BYTES, 'file');
      input = WorkspaceFilesService.parseMarkdown(decodeUtf8(bytes));
    }
    const outcome = await this.files.write(claims.tid, id, path, input);
    res.status(outcome.created ? 201 : 200);
    return { path, created: outcome.created, updated_docs: outcome.updatedDocs };
  }

  /** `DELETE /api/workspaces/{id}/files/{path}` (editor, admin) → 204: the file is tombstoned. */
  @Delete('*path')
  @HttpCode(204)
  @JsonResponse(204, 'the file is tombstoned (durable)')
  @ErrorResponses(400, 403, 404, 503)
  async remove(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('path') rawPath: unknown,
  ): Promise<void> {
    await this.access.require(claims, id, 'write');
    await this.files.delete(claims.tid, id, pathParam(rawPath));
  }
}

/**
 * `POST /api/docs/{docId}/updates` (editor, admin of the doc's workspace): applies a raw Yjs update
 * (encoding v1, `application/octet-stream`) through the doc's owning shard; answers once durable.
 * `docId` is a canonical doc id, URL-encoded (`workspace%3Aw1`, `body%3Aw1%2Fnotes%2Fa.md`).
 */
@ApiTags('files')
@ApiBearerAuth('bearer')
@ErrorResponses(401)
@Controller('api/docs')
@UseGuards(BearerAuthGuard)
export class DocUpdatesController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly files: WorkspaceFilesService,
  ) {}

  @Post(':docId/updates')
  @HttpCode(200)
  @AcceptsBody('application/octet-stream')
  @JsonResponse(200, 'applied, persisted and broadcast', docUpdateResponseSchema)
  @ErrorResponses(400, 403, 404, 413, 415, 503)
  async apply(
    @Claims() claims: TokenClaims,
    @Param('docId') docId: string,
    @Req() req: Request,
  ): Promise<DocUpdateResponse> {
    const parsed = isDocId(docId) ? parseDocId(docId) : null;
    if (!parsed) throw ApiError.notFound(`doc "${docId.slice(0, 300)}" not found`);
    await this.access.require(claims, parsed.workspaceId, 'write');
    const bytes = await readRawBody(req, MAX_UPDATE_BYTES, 'update');
    await this.files.applyRaw(claims.tid, docId, new Uint8Array(bytes));
    return { doc: docId, applied: true };
  }
}

function decodeUtf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw ApiError.badRequest('the file is not UTF-8 text', 'invalid_file');
  }
}
