import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { ApiError } from '../api/api-error';
import { Paginated, pageOf, parsePage } from '../api/pagination';
import { parseRequest } from '../api/request-validation';
import { WorkspaceAccessService } from '../api/workspace-access.service';
import { LoginThrottle } from '../ops/login-throttle';
import { SyncService } from '../sync/sync.service';
import { type Share, SHARE_ROLES, ShareStore } from './share.store';

/** Longest `expires_in_s` of a share (90 days). */
export const SHARE_MAX_EXPIRES_IN_S = 90 * 24 * 3600;
/** `expires_in_s` when the request leaves it out (7 days). */
export const SHARE_DEFAULT_EXPIRES_IN_S = 7 * 24 * 3600;
/** Lifetime of a guest token (15 min, never past the share's expiry); guests exchange the code again. */
export const SHARE_TOKEN_TTL_S = 15 * 60;

/** JSON form of a share (the join code is never listed). */
export interface ShareResponse {
  id: string;
  workspace: string;
  role: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

/** `201` answer of `POST /api/workspaces/{ws}/shares`: the share and its join code (shown once). */
export interface CreatedShareResponse extends ShareResponse {
  code: string;
}

/** `201` answer of `POST /api/shares/{code}/token`. */
export interface GuestTokenResponse {
  token: string;
  expires_at: string;
  workspace: string;
  role: string;
}

const createSchema = z.object({
  role: z.enum(SHARE_ROLES),
  expires_in_s: z.number().int().positive().max(SHARE_MAX_EXPIRES_IN_S).default(SHARE_DEFAULT_EXPIRES_IN_S),
});
const SHARE_ID_PATTERN = /^[0-9a-f-]{36}$/;

/**
 * Share links of a workspace (docs/protocol.md#share-links): `POST` creates one (editor or admin,
 * never with a share-link token itself), `GET` lists them, `DELETE …/{id}` revokes one: from then
 * on its code and its guest tokens are refused, and every gateway closes the connections that
 * joined with it (4403).
 */
@Controller('api/workspaces/:ws/shares')
@UseGuards(BearerAuthGuard)
export class SharesController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly shares: ShareStore,
    private readonly sync: SyncService,
  ) {}

  @Post()
  @HttpCode(201)
  async create(
    @Claims() claims: TokenClaims,
    @Param('ws') ws: string,
    @Body() body: unknown,
  ): Promise<CreatedShareResponse> {
    await this.requireManager(claims, ws);
    const input = parseRequest(createSchema, body);
    const { share, code } = await this.shares.create(claims.tid, ws, {
      role: input.role,
      expiresInS: input.expires_in_s,
      createdBy: claims.sub,
    });
    return { ...toResponse(share), code };
  }

  /** `GET …/shares[?limit=][&cursor=]`: one page in id order (docs/protocol.md#http-conventions). */
  @Get()
  @Paginated()
  async list(
    @Claims() claims: TokenClaims,
    @Param('ws') ws: string,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ shares: ShareResponse[]; next_cursor: string | null }> {
    await this.requireManager(claims, ws);
    const page = parsePage({ limit, cursor }, z.tuple([z.string()]));
    const fetched = await this.shares.list(claims.tid, ws, {
      afterId: page.after?.[0],
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageOf(fetched, page.limit, (s) => [s.id]);
    return { shares: items.map(toResponse), next_cursor };
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(
    @Claims() claims: TokenClaims,
    @Param('ws') ws: string,
    @Param('id') id: string,
  ): Promise<void> {
    await this.requireManager(claims, ws);
    if (!SHARE_ID_PATTERN.test(id) || !(await this.shares.revoke(claims.tid, ws, id))) {
      throw ApiError.notFound('share not found');
    }
    await this.sync.revokeShare(claims.tid, ws, id);
  }

  /** Editor or admin of the workspace, with an ordinary token (a guest may not re-share). */
  private async requireManager(claims: TokenClaims, ws: string): Promise<void> {
    await this.access.require(claims, ws, 'write');
    if (claims.share !== undefined) throw ApiError.forbidden('a share-link token may not manage shares');
  }
}

/**
 * `POST /api/shares/{code}/token` (no credentials): exchanges an active join code for a guest
 * token scoped to the share's workspace and role (`sub` = `share:{id}`, `share` claim). Failed
 * attempts are throttled per source address: after 10 a minute the address gets 429 with
 * `Retry-After` (1 min, doubling up to 1 h) without the code being looked at.
 */
@Controller('api/shares')
export class ShareTokensController {
  private readonly throttle = new LoginThrottle({
    maxFailures: 10,
    windowMs: 60_000,
    lockoutMs: 60_000,
    maxLockoutMs: 3_600_000,
    maxAddresses: 10_000,
  });

  constructor(
    private readonly shares: ShareStore,
    private readonly auth: AuthService,
  ) {}

  @Post(':code/token')
  @HttpCode(201)
  async token(
    @Param('code') code: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<GuestTokenResponse> {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const wait = this.throttle.retryAfterSeconds(address);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      throw new ApiError(429, 'rate_limited', `too many failed attempts, try again in ${wait} s`);
    }
    const share = await this.shares.findActiveByCode(code);
    if (!share) {
      const lockout = this.throttle.failed(address);
      if (lockout > 0) res.setHeader('Retry-After', String(lockout));
      throw ApiError.notFound('unknown, expired or revoked share code');
    }
    const remainingS = Math.floor((share.expiresAt.getTime() - Date.now()) / 1000);
    const issued = await this.auth.issue(
      {
        sub: `share:${share.id}`,
        tid: share.tenantId,
        ws: [share.workspaceId],
        role: share.role,
        share: share.id,
      },
      Math.min(SHARE_TOKEN_TTL_S, remainingS),
    );
    return {
      token: issued.token,
      expires_at: issued.expiresAt.toISOString(),
      workspace: share.workspaceId,
      role: share.role,
    };
  }
}

function toResponse(share: Share): ShareResponse {
  return {
    id: share.id,
    workspace: share.workspaceId,
    role: share.role,
    created_by: share.createdBy,
    created_at: share.createdAt.toISOString(),
    expires_at: share.expiresAt.toISOString(),
    revoked_at: share.revokedAt?.toISOString() ?? null,
  };
}
