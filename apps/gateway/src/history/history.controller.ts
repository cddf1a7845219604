/**
 * Git history of a workspace (docs/protocol.md#http-api): `GET …/history[?count=20]`, `POST …/commit`,
 * `POST …/restore {commit_id}`. Read: any role; commit/restore: editor or admin.
 */
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { ApiError } from '../api/api-error';
import { WorkspaceAccessService } from '../api/workspace-access.service';
import { WorkspaceHistoryService, type CommitResponse } from './workspace-history.service';

/** One entry of `GET …/history`. */
export interface CommitEntry {
  id: string;
  message: string;
  timestamp: string;
  parents: string[];
}

/** Answer of `POST …/restore`. */
export interface RestoreCommitResponse {
  commit_id: string;
  /** `restored` when docs changed, `unchanged` when the workspace already equalled the commit. */
  status: 'restored' | 'unchanged';
  docs_updated: number;
  files: number;
}

@Controller('api/workspaces/:id')
@UseGuards(BearerAuthGuard)
export class HistoryController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly history: WorkspaceHistoryService,
  ) {}

  @Get('history')
  async log(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('count') count: unknown,
  ): Promise<{ commits: CommitEntry[] }> {
    await this.access.require(claims, id, 'read');
    const commits = await this.history.log(claims.tid, id, parseCount(count));
    return {
      commits: commits.map((c) => ({
        id: c.id,
        message: c.message,
        timestamp: c.timestamp,
        parents: c.parents,
      })),
    };
  }

  @Post('commit')
  @HttpCode(200)
  async commit(@Claims() claims: TokenClaims, @Param('id') id: string): Promise<CommitResponse> {
    await this.access.require(claims, id, 'write');
    return this.history.commit(claims.tid, id, claims.sub);
  }

  @Post('restore')
  @HttpCode(200)
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

function parseCount(value: unknown): number {
  if (value === undefined) return 20;
  if (typeof value !== 'string' || !/^[0-9]{1,4}$/.test(value))
    throw ApiError.badRequest('count must be an integer 1..100', 'invalid_request');
  const n = Number(value);
  if (n < 1) throw ApiError.badRequest('count must be an integer 1..100', 'invalid_request');
  // docs/protocol.md#http-api: count ≤ 100 — larger values are clamped, like the page size of most APIs.
  return Math.min(n, 100);
}
