import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { WORKSPACE_ID_PATTERN } from '@diaryx-sync/crdt';
import { ALL_WORKSPACES, type TokenClaims } from '../auth/token-claims';
import { WorkspaceIdTakenError } from '../tenancy/tenancy.errors';
import { type Workspace, WorkspaceStore } from '../tenancy/workspace.store';
import { ApiError } from './api-error';
import { ErrorResponses, JsonBody, JsonResponse } from './openapi-decorators';
import { Paginated, pageOf, pageSchema, parsePage } from './pagination';
import { parseRequest, textSchema } from './request-validation';
import { WorkspaceAccessService } from './workspace-access.service';
import { WorkspaceDeletionService } from './workspace-deletion.service';

/** JSON form of a workspace. */
export interface WorkspaceResponse {
  id: string;
  name: string;
  created_at: string;
}

const nameSchema = textSchema(256, { trim: true });
const createSchema = z.object({
  id: z.string().regex(WORKSPACE_ID_PATTERN, 'must match [A-Za-z0-9_-]{1,64}').optional(),
  name: nameSchema.optional(),
});
const patchSchema = z.object({ name: nameSchema });
/** zod schema of {@link WorkspaceResponse} (OpenAPI). */
export const workspaceResponseSchema = z.object({
  id: z.string(),
  name: z.string(),
  created_at: z.string().datetime(),
});
const workspaceCursor = z.tuple([z.string()]);

/**
 * Workspaces CRUD of docs/protocol.md#http-api, always within the token's tenant. Create, rename and delete
 * need the `admin` role; reads need a token whose `ws` covers the workspace.
 */
@Controller('api/workspaces')
@UseGuards(BearerAuthGuard)
@ApiTags('workspaces')
@ApiBearerAuth('bearer')
@ErrorResponses(401)
export class WorkspacesController {
  constructor(
    private readonly auth: AuthService,
    private readonly workspaces: WorkspaceStore,
    private readonly access: WorkspaceAccessService,
    private readonly deletion: WorkspaceDeletionService,
  ) {}

  /** `POST /api/workspaces {"id"?,"name"}` → 201; 409 `workspace_exists` when the id is taken. */
  @Post()
  @HttpCode(201)
  @JsonBody(createSchema)
  @JsonResponse(201, 'the new workspace', workspaceResponseSchema)
  @ErrorResponses(400, 403, 409)
  async create(@Claims() claims: TokenClaims, @Body() body: unknown): Promise<WorkspaceResponse> {
    if (!this.auth.isAdmin(claims)) throw ApiError.forbidden('only a tenant admin may create workspaces');
    const input = parseRequest(createSchema, body);
    try {
      return toResponse(await this.workspaces.create(claims.tid, input));
    } catch (err) {
      if (err instanceof WorkspaceIdTakenError) throw ApiError.conflict(err.message, 'workspace_exists');
      throw err;
    }
  }

  /**
   * `GET /api/workspaces[?limit=][&cursor=]` → the tenant's workspaces covered by the token, in id
   * order, one page at a time.
   */
  @Get()
  @Paginated()
  @JsonResponse(200, 'one page of workspaces, in id order', pageSchema('workspaces', workspaceResponseSchema))
  @ErrorResponses(400)
  async list(
    @Claims() claims: TokenClaims,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ workspaces: WorkspaceResponse[]; next_cursor: string | null }> {
    const page = parsePage({ limit, cursor }, workspaceCursor);
    const fetched = await this.workspaces.listPage(claims.tid, {
      afterId: page.after?.[0],
      limit: page.limit + 1,
      only: claims.ws.includes(ALL_WORKSPACES) ? undefined : claims.ws,
    });
    const { items, next_cursor } = pageOf(fetched, page.limit, (w) => [w.id]);
    return { workspaces: items.map(toResponse), next_cursor };
  }

  /** `GET /api/workspaces/{id}`. */
  @Get(':id')
  @JsonResponse(200, 'the workspace', workspaceResponseSchema)
  @ErrorResponses(404)
  async get(@Claims() claims: TokenClaims, @Param('id') id: string): Promise<WorkspaceResponse> {
    return toResponse(await this.access.require(claims, id, 'read'));
  }

  /** `PATCH /api/workspaces/{id} {"name"}` (admin). */
  @Patch(':id')
  @JsonBody(patchSchema)
  @JsonResponse(200, 'the renamed workspace', workspaceResponseSchema)
  @ErrorResponses(400, 403, 404)
  async rename(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<WorkspaceResponse> {
    await this.access.require(claims, id, 'admin');
    const { name } = parseRequest(patchSchema, body);
    const renamed = await this.workspaces.rename(claims.tid, id, name);
    if (!renamed) throw ApiError.notFound(`workspace "${id}" not found`);
    return toResponse(renamed);
  }

  /** `DELETE /api/workspaces/{id}` (admin) → 204, docs/workspace-deletion.md ({@link WorkspaceDeletionService}). */
  @Delete(':id')
  @HttpCode(204)
  @JsonResponse(204, 'deleted, with its documents, S3 objects and git history')
  @ErrorResponses(403, 404)
  async remove(@Claims() claims: TokenClaims, @Param('id') id: string): Promise<void> {
    await this.access.require(claims, id, 'admin');
    if (!(await this.deletion.delete(claims.tid, id))) throw ApiError.notFound(`workspace "${id}" not found`);
  }
}

function toResponse(workspace: Workspace): WorkspaceResponse {
  return { id: workspace.id, name: workspace.name, created_at: workspace.createdAt.toISOString() };
}
