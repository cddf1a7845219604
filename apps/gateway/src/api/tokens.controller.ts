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
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { TokenRevocations } from '../auth/token-revocations';
import { ROLES } from '@diaryx-sync/protocol';
import { WORKSPACE_ID_PATTERN } from '@diaryx-sync/crdt';
import { ALL_WORKSPACES, type TokenClaims } from '../auth/token-claims';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { type TokenRecord, TokenStore } from '../tenancy/token.store';
import { WorkspaceStore } from '../tenancy/workspace.store';
import { ApiError } from './api-error';
import { ErrorResponses, JsonBody, JsonResponse } from './openapi-decorators';
import { Paginated, pageOf, pageSchema, parsePage } from './pagination';
import { parseRequest, textSchema } from './request-validation';

/** `201` answer of `POST /api/tokens`. */
export interface IssuedTokenResponse {
  token: string;
  jti: string;
  expires_at: string;
}

/** One entry of `GET /api/tokens` (never the token itself). */
export interface TokenInfoResponse {
  jti: string;
  sub: string;
  ws: string[];
  role: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

const issuedTokenSchema = z.object({ token: z.string(), jti: z.string(), expires_at: z.string().datetime() });
const tokenInfoSchema = z.object({
  jti: z.string(),
  sub: z.string(),
  ws: z.array(z.string()),
  role: z.enum(ROLES),
  created_at: z.string().datetime(),
  expires_at: z.string().datetime(),
  revoked_at: z.string().datetime().nullable(),
});
const tokenCursor = z.tuple([z.string()]);

/**
 * Tokens of the caller's tenant (tenant admin), docs/protocol.md#tokens:
 * `POST /api/tokens {"sub","ws":[…],"role","ttl_s"}` mints one (with a `jti`; `ws` entries are
 * workspace ids of existing workspaces, 404 otherwise, or the single entry `"*"`; `ttl_s` ≤
 * `TOKEN_MAX_TTL_S`); `GET /api/tokens` lists the unexpired ones minted through the API;
 * `DELETE /api/tokens/{jti}` revokes one: refused by every gateway within seconds, on HTTP (401
 * `token_revoked`) and on open sockets (closed with 4401). An admin whose own token does not cover
 * every workspace may only mint tokens within its own `ws` (403 otherwise).
 */
@Controller('api/tokens')
@UseGuards(BearerAuthGuard)
@ApiTags('tokens')
@ApiBearerAuth('bearer')
@ErrorResponses(401, 403)
export class TokensController {
  private readonly schema;

  constructor(
    private readonly auth: AuthService,
    private readonly tokens: TokenStore,
    private readonly workspaces: WorkspaceStore,
    private readonly revocations: TokenRevocations,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.schema = z.object({
      sub: textSchema(256, { trim: false }),
      ws: z
        .array(
          z
            .string()
            .refine((w) => w === ALL_WORKSPACES || WORKSPACE_ID_PATTERN.test(w), 'not a workspace id'),
        )
        .max(1000)
        .refine((ws) => !ws.includes(ALL_WORKSPACES) || ws.length === 1, '"*" must be the only entry'),
      role: z.enum(ROLES),
      ttl_s: z.number().int().positive().max(config.TOKEN_MAX_TTL_S).default(config.TOKEN_DEFAULT_TTL_S),
      device_name: textSchema(64, { trim: true }).optional(),
    });
  }

  @Post()
  @HttpCode(201)
  @JsonBody(
    z.object({
      sub: z.string(),
      ws: z.array(z.string()).describe('workspace ids, or ["*"] for every workspace of the tenant'),
      role: z.enum(ROLES),
      ttl_s: z.number().int().positive().optional(),
      device_name: z.string().optional().describe('device the token is for, stored with its updates'),
    }),
  )
  @JsonResponse(201, 'the new token', issuedTokenSchema)
  @ErrorResponses(400, 404)
  async create(@Claims() claims: TokenClaims, @Body() body: unknown): Promise<IssuedTokenResponse> {
    this.requireAdmin(claims);
    const request = parseRequest(this.schema, body);
    const escalates =
      request.ws.some((w) => !this.auth.canAccessWorkspace(claims, w) || w === ALL_WORKSPACES) &&
      !claims.ws.includes(ALL_WORKSPACES);
    if (escalates) throw ApiError.forbidden('the new token may not cover workspaces outside your own token');
    for (const w of request.ws) {
      if (w !== ALL_WORKSPACES && !(await this.workspaces.get(claims.tid, w)))
        throw ApiError.notFound(`workspace "${w}" not found`);
    }
    const issued = await this.auth.issue(
      {
        sub: request.sub,
        tid: claims.tid,
        ws: request.ws,
        role: request.role,
        ...(request.device_name === undefined ? {} : { device_name: request.device_name }),
      },
      request.ttl_s,
    );
    await this.tokens.record({
      tenantId: claims.tid,
      jti: issued.jti,
      sub: request.sub,
      ws: request.ws,
      role: request.role,
      expiresAt: issued.expiresAt,
    });
    return { token: issued.token, jti: issued.jti, expires_at: issued.expiresAt.toISOString() };
  }

  /** `GET /api/tokens[?limit=][&cursor=]` → the tenant's unexpired tokens in `jti` order. */
  @Get()
  @Paginated()
  @JsonResponse(200, 'one page of tokens, in jti order', pageSchema('tokens', tokenInfoSchema))
  @ErrorResponses(400)
  async list(
    @Claims() claims: TokenClaims,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ tokens: TokenInfoResponse[]; next_cursor: string | null }> {
    this.requireAdmin(claims);
    const page = parsePage({ limit, cursor }, tokenCursor);
    const fetched = await this.tokens.listPage(claims.tid, {
      afterJti: page.after?.[0],
      limit: page.limit + 1,
    });
    const { items, next_cursor } = pageOf(fetched, page.limit, (t) => [t.jti]);
    return { tokens: items.map(toInfo), next_cursor };
  }

  /** `DELETE /api/tokens/{jti}` → 204 (idempotent); 404 when the tenant has no such token. */
  @Delete(':jti')
  @HttpCode(204)
  @JsonResponse(204, 'revoked: refused by every gateway within seconds, open sockets closed with 4401')
  @ErrorResponses(404)
  async revoke(@Claims() claims: TokenClaims, @Param('jti') jti: string): Promise<void> {
    this.requireAdmin(claims);
    const revoked = await this.tokens.revoke(claims.tid, jti);
    if (!revoked) throw ApiError.notFound(`token "${jti.slice(0, 80)}" not found`);
    await this.revocations.announce([jti]);
  }

  private requireAdmin(claims: TokenClaims): void {
    if (!this.auth.isAdmin(claims)) throw ApiError.forbidden('only a tenant admin may manage tokens');
  }
}

function toInfo(t: TokenRecord): TokenInfoResponse {
  return {
    jti: t.jti,
    sub: t.sub,
    ws: t.ws,
    role: t.role,
    created_at: t.createdAt.toISOString(),
    expires_at: t.expiresAt.toISOString(),
    revoked_at: t.revokedAt ? t.revokedAt.toISOString() : null,
  };
}
