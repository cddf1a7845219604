import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { WEBHOOK_EVENTS } from '@diaryx-sync/bus';
import { type Webhook, WebhookStore } from '@diaryx-sync/git-store';
import { z } from 'zod';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { ApiError } from '../api/api-error';
import { ErrorResponses, JsonBody, JsonResponse } from '../api/openapi-decorators';
import { Paginated, pageOf, pageSchema, parsePage } from '../api/pagination';
import { parseRequest } from '../api/request-validation';
import { WorkspaceAccessService } from '../api/workspace-access.service';
import { WorkspaceDocumentsService } from '../api/workspace-documents.service';

/** JSON form of a hook (never with its secret). */
export interface WebhookResponse {
  id: string;
  url: string;
  events: string[];
  created_at: string;
}

/** `201` answer of `POST …/webhooks`: the only answer that carries the secret. */
export interface CreatedWebhookResponse extends WebhookResponse {
  secret: string;
}

const createSchema = z.object({
  url: z
    .string()
    .max(2048)
    .url()
    .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http or https URL'),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length),
  secret: z
    .string()
    .min(16)
    .max(256)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional(),
});

const responseSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  created_at: z.string(),
});
const createdResponseSchema = responseSchema.extend({ secret: z.string() });

/**
 * Change webhooks of a workspace (docs/protocol.md#webhooks), tenant admins only: register (the
 * secret is returned once, generated when not given), list (paginated), delete. A deleted workspace or tenant loses its hooks. Delivery is the history
 * worker's `webhook-delivery` queue (visible on `/ops/queues`).
 */
@ApiTags('webhooks')
@ApiBearerAuth('bearer')
@ErrorResponses(401)
@Controller('api/workspaces/:id/webhooks')
@UseGuards(BearerAuthGuard)
export class WebhooksController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly hooks: WebhookStore,
    documents: WorkspaceDocumentsService,
  ) {
    // A deleted workspace (or tenant) takes its hooks with it: a later workspace of that id starts
    // without them.
    documents.addDeletionHook(async (tenant, workspace) => {
      await this.hooks.deleteWorkspace(tenant, workspace);
    });
  }

  /** `POST /api/workspaces/{id}/webhooks {"url","events","secret"?}` → 201 with the secret. */
  @Post()
  @HttpCode(201)
  @JsonBody(createSchema)
  @JsonResponse(201, 'the new hook, with its secret (shown only here)', createdResponseSchema)
  @ErrorResponses(400, 403, 404)
  async create(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Body() body: unknown,
  ): Promise<CreatedWebhookResponse> {
    await this.access.require(claims, id, 'admin');
    const input = parseRequest(createSchema, body);
    const hook = await this.hooks.create({
      tenant: claims.tid,
      workspace: id,
      ...input,
      events: [...new Set(input.events)],
    });
    return { ...toResponse(hook), secret: hook.secret };
  }

  /** `GET /api/workspaces/{id}/webhooks[?limit=][&cursor=]` → the workspace's hooks, no secrets. */
  @Get()
  @Paginated()
  @JsonResponse(
    200,
    'one page of hooks, in id order, without secrets',
    pageSchema('webhooks', responseSchema),
  )
  @ErrorResponses(400, 403, 404)
  async list(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ): Promise<{ webhooks: WebhookResponse[]; next_cursor: string | null }> {
    await this.access.require(claims, id, 'admin');
    const page = parsePage({ limit, cursor }, z.tuple([z.string()]));
    const fetched = await this.hooks.list(claims.tid, id, { after: page.after?.[0], limit: page.limit + 1 });
    const { items, next_cursor } = pageOf(fetched, page.limit, (h) => [h.id]);
    return { webhooks: items.map(toResponse), next_cursor };
  }

  /** `DELETE /api/workspaces/{id}/webhooks/{hookId}` → 204; deliveries still queued are skipped. */
  @Delete(':hookId')
  @HttpCode(204)
  @JsonResponse(204, 'deleted')
  @ErrorResponses(403, 404)
  async remove(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
    @Param('hookId') hookId: string,
  ): Promise<void> {
    await this.access.require(claims, id, 'admin');
    if (!(await this.hooks.delete(claims.tid, id, hookId)))
      throw ApiError.notFound(`webhook "${hookId.slice(0, 80)}" not found`);
  }
}

function toResponse(hook: Webhook): WebhookResponse {
  return { id: hook.id, url: hook.url, events: hook.events, created_at: hook.created_at };
}
