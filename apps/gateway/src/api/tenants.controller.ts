import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service';
import { ClusterAdminGuard } from '../auth/cluster-admin.guard';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { TenantStore } from '../tenancy/tenant.store';
import { parseRequest, textSchema } from './request-validation';

const createTenantSchema = z.object({ name: textSchema(128, { trim: true }) });

/** `201` answer of `POST /api/tenants`. */
export interface CreatedTenantResponse {
  id: string;
  name: string;
  admin_token: string;
}

/**
 * `POST /api/tenants {"name"}` with the cluster `ADMIN_TOKEN`: creates a tenant and returns an
 * admin token for it (role `admin`, `ws: ["*"]`, `TENANT_ADMIN_TOKEN_TTL_S`). Every call creates a
 * new tenant with a generated id; the name is a label (two tenants may share it).
 */
@Controller('api/tenants')
@UseGuards(ClusterAdminGuard)
export class TenantsController {
  constructor(
    private readonly tenants: TenantStore,
    private readonly auth: AuthService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown): Promise<CreatedTenantResponse> {
    const { name } = parseRequest(createTenantSchema, body);
    const tenant = await this.tenants.create(name);
    const { token } = await this.auth.issue(
      { sub: `admin@${tenant.id}`, tid: tenant.id, ws: ['*'], role: 'admin' },
      this.config.TENANT_ADMIN_TOKEN_TTL_S,
    );
    return { id: tenant.id, name: tenant.name, admin_token: token };
  }
}
