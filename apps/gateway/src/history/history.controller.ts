/**
 * Git history of a workspace (docs/protocol.md#http-api): `GET …/history[?limit=20][&cursor=]`, `POST …/commit`,
 * `POST …/restore {commit_id}`. Read: any role; commit/restore: editor or admin.
 */
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { UnknownCommitError } from '@diaryx-sync/git-store';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { ApiError } from '../api/api-error';
import { ErrorResponses, JsonBody, JsonResponse } from '../api/openapi-decorators';
import { type PageLimits, Paginated, pageOf, pageSchema, parsePage } from '../api/pagination';
import { WorkspaceAccessService } from '../api/workspace-access.service';
import { WorkspaceHistoryService, type CommitResponse } from './workspace-history.service';

/** One entry of `GET …/history`. */
export interface CommitEntry {
  id: string;
  message: string;
  timestamp: string;
  parents: string[];
  /** Author name: the user who changed most since the previous commit (docs/protocol.md#who-changed-what). */
  author: string;
}

/** Answer of `POST …/restore`. */
export interface RestoreCommitResponse {
  commit_id: string;
  /** `restored` when docs changed, `unchanged` when the workspace already equalled the commit. */
  status: 'restored' | 'unchanged';
  docs_updated: number;
  files: number;
}

/** Commits per page: 20 by default, at most 100. */
const HISTORY_PAGE_LIMITS: PageLimits = { defaultLimit: 20, maxLimit: 100 };
const commitCursor = z.tuple([z.string().regex(/^[0-9a-f]{40}$/)]);
const commitSchema = z.object({
  id: z.string(),
  message: z.string(),
  timestamp: z.string().datetime(),
  parents: z.array(z.string()),
  author: z.string(),
});

@Controller('api/workspaces/:id')
@UseGuards(BearerAuthGuard)
@ApiTags('history')
@ApiBearerAuth('bearer')
@ErrorResponses(401, 404)
export class HistoryController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly history: WorkspaceHistoryService,
  ) {}

  /** Newest first along first parents; the cursor is the last commit id of the previous page. */
  @Get('history')
  @Paginated(HISTORY_PAGE_LIMITS)
  @JsonResponse(200, 'one page of commits, newest first', pageSchema('commits', commitSchema))
  @ErrorResponses(400)
  async log(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ commits: CommitEntry[]; next_cursor: string | null }> {
    await this.access.require(claims, id, 'read');
    const page = parsePage({ limit, cursor }, commitCursor, HISTORY_PAGE_LIMITS);
    let fetched;
    try {
      fetched = await this.history.log(claims.tid, id, page.limit + 1, page.after?.[0]);
    } catch (err) {
      if (err instanceof UnknownCommitError)
        throw ApiError.badRequest('cursor is not a cursor of this list', 'invalid_cursor');
      throw err;
    }
    const { items, next_cursor } = pageOf(fetched, page.limit, (c) => [c.id]);
    return {
      next_cursor,
      commits: items.map((c) => ({
        id: c.id,
        message: c.message,
        timestamp: c.timestamp,
        parents: c.parents,
        author: c.author,
      })),
    };
  }

  @Post('commit')
  @HttpCode(200)
  @JsonResponse(200, 'committed', z.object({ commit_id: z.string(), files: z.number().int() }))
  @ErrorResponses(403, 409, 503)
  async commit(@Claims() claims: TokenClaims, @Param('id') id: string): Promise<CommitResponse> {
    await this.access.require(claims, id, 'write');
    return this.history.commit(claims.tid, id, claims.sub);
  }

  @Post('restore')
  @HttpCode(200)
  @JsonBody(z.object({ commit_id: z.string().regex(/^[0-9a-f]{40}$/) }))
  @JsonResponse(
    200,
    'restored to the commit as forward updates',
    z.object({
      commit_id: z.string(),
      status: z.enum(['restored', 'unchanged']),
      docs_updated: z.number().int(),
      files: z.number().int(),
    }),
  )
  @ErrorResponses(400, 403, 503)
  async restore(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<RestoreCommitResponse> {
    await this.access.require(claims, id, 'write');
    const commitId =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).commit_id : undefined;
    const result = await this.history.restore(claims.tid, id, commitId, claims.sub);
    return {
      commit_id: result.commit_id ?? String(commitId),
      status: result.status,
      docs_updated: result.docs_updated,
      files: result.files,
    };
  }
}
