import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { AuthService } from '../auth/auth.service';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ROLES } from '@diaryx-sync/protocol';
import { WORKSPACE_ID_PATTERN } from '@diaryx-sync/crdt';
import { ALL_WORKSPACES, type TokenClaims } from '../auth/token-claims';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { ApiError } from './api-error';
import { parseRequest, textSchema } from './request-validation';

/** `201` answer of `POST /api/tokens`. */
export interface IssuedTokenResponse {
  token: string;
  expires_at: string;
}

/**
 * `POST /api/tokens {"sub","ws":[…],"role","ttl_s"}` (tenant admin): mints a token for the
 * caller's tenant. `ws` entries are workspace ids or the single entry `"*"`; `ttl_s` is a positive
 * integer ≤ `TOKEN_MAX_TTL_S` (default `TOKEN_DEFAULT_TTL_S`). An admin whose own token does not
 * cover every workspace may only mint tokens within its own `ws` (403 otherwise).
 */
@Controller('api/tokens')
@UseGuards(BearerAuthGuard)
export class TokensController {
  private readonly schema;

  constructor(
    private readonly auth: AuthService,
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
    });
  }

  @Post()
  @HttpCode(201)
  async create(@Claims() claims: TokenClaims, @Body() body: unknown): Promise<IssuedTokenResponse> {
    if (!this.auth.isAdmin(claims)) throw ApiError.forbidden('only a tenant admin may create tokens');
    const request = parseRequest(this.schema, body);
    const escalates =
      request.ws.some((w) => !this.auth.canAccessWorkspace(claims, w) || w === ALL_WORKSPACES) &&
      !claims.ws.includes(ALL_WORKSPACES);
    if (escalates) throw ApiError.forbidden('the new token may not cover workspaces outside your own token');
    const issued = await this.auth.issue(
      { sub: request.sub, tid: claims.tid, ws: request.ws, role: request.role },
      request.ttl_s,
    );
    return { token: issued.token, expires_at: issued.expiresAt.toISOString() };
  }
}
