/**
 * Read-only git "dumb HTTP" of a workspace's history: `GET /git/{workspaceId}.git/info/refs`,
 * `/HEAD`, `/objects/…` served from S3. Without credentials: 401 with
 * `WWW-Authenticate: Basic realm="diaryx-sync"` so that git asks for them.
 */
import { Controller, Get, Head, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { serveDumbHttp, GitStore } from '@diaryx-sync/git-store';
import { AuthService } from '../auth/auth.service';
import { InvalidTokenError } from '../auth/auth.errors';
import { ApiError } from '../api/api-error';
import { WorkspaceAccessService } from '../api/workspace-access.service';
import { extractGitToken, GIT_REALM } from './git-credentials';

@Controller('git')
export class GitHttpController {
  constructor(
    private readonly auth: AuthService,
    private readonly access: WorkspaceAccessService,
    private readonly git: GitStore,
  ) {}

  @Get(':repo/*path')
  get(@Param('repo') repo: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.serve(repo, req, res, false);
  }

  @Head(':repo/*path')
  head(@Param('repo') repo: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    return this.serve(repo, req, res, true);
  }

  private async serve(repo: string, req: Request, res: Response, headOnly: boolean): Promise<void> {
    const token = extractGitToken(req.headers.authorization);
    if (!token) return challenge(res, 'credentials required');
    let claims;
    try {
      claims = await this.auth.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) return challenge(res, 'invalid token');
      throw err;
    }
    const m = /^([A-Za-z0-9_-]{1,64})\.git$/.exec(repo);
    if (!m) throw ApiError.notFound('repository not found');
    await this.access.require(claims, m[1], 'read');
    const prefix = `/git/${repo}/`;
    const path = req.path.startsWith(prefix) ? req.path.slice(prefix.length) : '';
    const answer = await serveDumbHttp(this.git.repository(claims.tid, m[1]), path);
    res.status(answer.status);
    res.setHeader('Content-Type', answer.contentType);
    res.setHeader('Content-Length', String(answer.body.length));
    res.setHeader(
      'Cache-Control',
      path.startsWith('objects/') && answer.status === 200
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
    );
    res.end(headOnly ? undefined : answer.body);
  }
}

function challenge(res: Response, message: string): void {
  res.status(401);
  res.setHeader('WWW-Authenticate', `Basic realm="${GIT_REALM}"`);
  res.json({ error: { code: 'unauthorized', message } });
}
