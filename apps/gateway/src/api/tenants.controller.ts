import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service';
import { ClusterAdminGuard } from '../auth/cluster-admin.guard';
import { TokenRevocations } from '../auth/token-revocations';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { type Tenant, TenantStore } from '../tenancy/tenant.store';
import { TokenStore } from '../tenancy/token.store';
import { WorkspaceStore } from '../tenancy/workspace.store';
import { ApiError } from './api-error';
import { ErrorResponses, JsonBody, JsonResponse } from './openapi-decorators';
import { Paginated, pageOf, pageSchema, parsePage } from './pagination';
import { parseRequest, textSchema } from './request-validation';
import { WorkspaceDeletionService } from './workspace-deletion.service';

const createTenantSchema = z.object({ name: textSchema(128, { trim: true }) });
const createdTenantSchema = z.object({ id: z.string(), name: z.string(), admin_token: z.string() });
const tenantSchema = z.object({ id: z.string(), name: z.string(), created_at: z.string().datetime() });
const tenantCursor = z.tuple([z.string()]);

/** `201` answer of `POST /api/tenants`. */
export interface CreatedTenantResponse {
  id: string;
  name: string;
  admin_token: string;
}

/** One entry of `GET /api/tenants`. */
export interface TenantResponse {
  id: string;
  name: string;
  created_at: string;
}

/**
 * Tenants, with the cluster `ADMIN_TOKEN` (docs/protocol.md#tenants): `POST /api/tenants {"name"}`
 * creates one and returns an admin token for it (role `admin`, `ws: ["*"]`,
 * `TENANT_ADMIN_TOKEN_TTL_S`; every call creates a new tenant, names are labels);
 * `GET /api/tenants` lists them; `DELETE /api/tenants/{id}?confirm={id}` deletes one with all of
 * its data: each workspace through the workspace-deletion path (sockets closed with 4403, docs
 * unloaded, documents, S3 objects and git history deleted), then its tokens are revoked.
 */
@Controller('api/tenants')
@UseGuards(ClusterAdminGuard)
@ApiTags('tenants')
@ApiBearerAuth('bearer')
@ErrorResponses(401)
export class TenantsController {
  constructor(
    private readonly tenants: TenantStore,
    private readonly workspaces: WorkspaceStore,
    private readonly tokens: TokenStore,
    private readonly revocations: TokenRevocations,
    private readonly deletion: WorkspaceDeletionService,
    private readonly auth: AuthService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post()
  @HttpCode(201)
  @JsonBody(createTenantSchema)
  @JsonResponse(201, 'the new tenant and an admin token for it', createdTenantSchema)
  @ErrorResponses(400)
  async create(@Body() body: unknown): Promise<CreatedTenantResponse> {
    const { name } = parseRequest(createTenantSchema, body);
    const tenant = await this.tenants.create(name);
    const sub = `admin@${tenant.id}`;
    const issued = await this.auth.issue(
      { sub, tid: tenant.id, ws: ['*'], role: 'admin' },
      this.config.TENANT_ADMIN_TOKEN_TTL_S,
    );
    await this.tokens.record({
      tenantId: tenant.id,
      jti: issued.jti,
      sub,
      ws: ['*'],
      role: 'admin',
      expiresAt: issued.expiresAt,
    });
    return { id: tenant.id, name: tenant.name, admin_token: issued.token };
  }

  /** `GET /api/tenants[?limit=][&cursor=]` → tenants in id order. */
  @Get()
  @Paginated()
  @JsonResponse(200, 'one page of tenants, in id order', pageSchema('tenants', tenantSchema))
  @ErrorResponses(400)
  async list(
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ tenants: TenantResponse[]; next_cursor: string | null }> {
    const page = parsePage({ limit, cursor }, tenantCursor);
    const fetched = await this.tenants.listPage({ afterId: page.after?.[0], limit: page.limit + 1 });
    const { items, next_cursor } = pageOf(fetched, page.limit, (t) => [t.id]);
    return { tenants: items.map(toResponse), next_cursor };
  }

  /**
   * `DELETE /api/tenants/{id}?confirm={id}` → 204 once every workspace of the tenant is deleted
   * (like `DELETE /api/workspaces/{id}`), its tokens revoked and the tenant row removed.
   * 400 `confirmation_required` when `confirm` is not the tenant id; 404 when absent.
   */
  @Delete(':id')
  @HttpCode(204)
  @ApiQuery({
    name: 'confirm',
    required: true,
    description: 'the tenant id again',
    schema: { type: 'string' },
  })
  @JsonResponse(204, 'deleted with all its workspaces, documents, S3 objects, git history and tokens')
  @ErrorResponses(400, 404)
  async remove(@Param('id') id: string, @Query('confirm') confirm: unknown): Promise<void> {
    const tenant = await this.tenants.get(id);
    if (!tenant) throw ApiError.notFound(`tenant "${id.slice(0, 80)}" not found`);
    if (confirm !== id) {
      throw ApiError.badRequest(
        `deleting a tenant removes all of its data: repeat its id as ?confirm=${id}`,
        'confirmation_required',
      );
    }
    for (const workspace of await this.workspaces.list(id)) await this.deletion.delete(id, workspace.id);
    await this.revocations.announce(await this.tokens.revokeTenant(id));
    await this.tenants.delete(id);
  }
}

function toResponse(t: Tenant): TenantResponse {
  return { id: t.id, name: t.name, created_at: t.createdAt.toISOString() };
}
