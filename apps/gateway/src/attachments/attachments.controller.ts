/**
 * Attachments of docs/protocol.md#attachments: `PUT …/attachments/{sha256}` stores bytes
 * (streamed to a temp file, hashed by the server, then streamed to S3; nothing is stored unless
 * the declared hash and size match), `HEAD`/`GET …/attachments/{sha256}` check and download
 * (or `?presign=1` for a short-lived S3 URL), `GET …/attachments` lists what the workspace
 * references. Hashes are per tenant: another tenant's hash is 404 like a missing one.
 */
import {
  Controller,
  Get,
  Head,
  HttpCode,
  Inject,
  Param,
  Put,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { ATTACHMENT_GC_GRACE_MS, attachmentTouchKey } from '@diaryx-sync/bus';
import { AttachmentStore, isSha256Hex, sha256OfFile } from '@diaryx-sync/objstore';
import type { RedisClient } from '@diaryx-sync/runtime';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { AcceptsBody } from '../api/accepts-body';
import { ApiError } from '../api/api-error';
import { Paginated, pageOf, parsePage } from '../api/pagination';
import { WorkspaceAccessService } from '../api/workspace-access.service';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { REDIS } from '../infra/infra.tokens';
import { discardRest, receiveUpload } from '../history/upload-file';
import { WorkspaceAttachmentsService, type ReferencedAttachment } from './workspace-attachments.service';

/** Answer of an upload. */
export interface AttachmentUploadResponse {
  hash: string;
  size: number;
  /** False when the tenant already had these bytes (nothing new was stored). */
  created: boolean;
}

function checkHash(hash: string): string {
  if (!isSha256Hex(hash)) throw ApiError.notFound('attachment not found');
  return hash;
}

@Controller('api/workspaces/:id/attachments')
@UseGuards(BearerAuthGuard)
export class AttachmentsController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly store: AttachmentStore,
    private readonly referenced: WorkspaceAttachmentsService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  /**
   * A client that found these bytes on the server is about to reference them: garbage collection
   * keeps them for its grace period (docs/protocol.md#attachments).
   */
  private async touch(tenant: string, hash: string): Promise<void> {
    await this.redis.set(
      attachmentTouchKey(this.config.REDIS_PREFIX, tenant, hash),
      '1',
      'PX',
      ATTACHMENT_GC_GRACE_MS,
    );
  }

  /** `GET …/attachments[?limit=][&cursor=]`: one page in (file, path) order (docs/protocol.md#http-conventions). */
  @Get()
  @Paginated()
  async list(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ attachments: ReferencedAttachment[]; next_cursor: string | null }> {
    await this.access.require(claims, id, 'read');
    const page = parsePage({ limit, cursor }, z.tuple([z.string(), z.string()]));
    const key = (a: ReferencedAttachment): [string, string] => [a.file, a.path];
    const after = page.after;
    const sorted = (await this.referenced.list(claims.tid, id)).sort((a, b) => compareKeys(key(a), key(b)));
    const rest = after ? sorted.filter((a) => compareKeys(key(a), after) > 0) : sorted;
    const { items, next_cursor } = pageOf(rest.slice(0, page.limit + 1), page.limit, key);
    return { attachments: items, next_cursor };
  }

  @Head(':hash')
  async head(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('hash') hash: string,
    @Res() res: Response,
  ): Promise<void> {
    await this.access.require(claims, id, 'read');
    const stat = await this.store.stat(claims.tid, checkHash(hash));
    if (!stat) throw ApiError.notFound('attachment not found');
    await this.touch(claims.tid, hash);
    res.status(200).setHeader('Content-Length', String(stat.size));
    res.end();
  }

  @Get(':hash')
  async download(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('hash') hash: string,
    @Query('presign') presign: unknown,
    @Res() res: Response,
  ): Promise<void> {
    await this.access.require(claims, id, 'read');
    checkHash(hash);
    const stat = await this.store.stat(claims.tid, hash);
    if (!stat) throw ApiError.notFound('attachment not found');
    if (presign === '1' || presign === 'true') {
      const ttl = this.config.ATTACHMENT_PRESIGN_TTL_S;
      res.status(200).json({ url: await this.store.presignedGet(claims.tid, hash, ttl), expires_in_s: ttl });
      return;
    }
    const stream = await this.store.getStream(claims.tid, hash);
    if (!stream) throw ApiError.notFound('attachment not found');
    res.status(200);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(stat.size));
    res.setHeader('ETag', `"${hash}"`);
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  @Put(':hash')
  @HttpCode(200)
  @AcceptsBody('*/*')
  async upload(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('hash') hash: string,
    @Query('size') size: unknown,
    @Req() req: Request,
  ): Promise<AttachmentUploadResponse> {
    await this.access.require(claims, id, 'write');
    if (!isSha256Hex(hash))
      throw ApiError.badRequest(
        'the path must end in the lowercase hex SHA-256 of the bytes',
        'invalid_hash',
      );
    let declaredSize: number | null = null;
    if (size !== undefined) {
      declaredSize = typeof size === 'string' && /^\d{1,15}$/.test(size) ? Number(size) : NaN;
      if (!Number.isSafeInteger(declaredSize))
        throw ApiError.badRequest('size must be a non-negative integer', 'invalid_request');
    }
    const max = this.config.ATTACHMENT_MAX_BYTES;
    if (declaredSize !== null && declaredSize > max) {
      discardRest(req, max);
      throw new ApiError(413, 'payload_too_large', `attachment is larger than ${max} bytes`);
    }
    const upload = await receiveUpload(req, max, 'attachment');
    try {
      const actual = await sha256OfFile(upload.file);
      if (declaredSize !== null && actual.size !== declaredSize)
        throw ApiError.badRequest(
          `declared size ${declaredSize} but received ${actual.size} bytes`,
          'size_mismatch',
        );
      if (actual.hash !== hash)
        throw ApiError.badRequest(`declared sha256 ${hash} but received ${actual.hash}`, 'hash_mismatch');
      const mime = req.headers['content-type'] ?? '';
      const created = await this.store.putFile(claims.tid, hash, upload.file, actual.size, mime);
      if (!created) await this.touch(claims.tid, hash);
      return { hash, size: actual.size, created };
    } finally {
      await upload.dispose();
    }
  }
}

/** Code-unit order of (file, path) keys: the stable order of the attachments list. */
function compareKeys(a: readonly [string, string], b: readonly [string, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}
