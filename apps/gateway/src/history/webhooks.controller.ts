import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { WEBHOOK_EVENTS } from '@diaryx-sync/bus';
import { type Webhook, WebhookStore } from '@diaryx-sync/git-store';
import { z } from 'zod';
import { Claims } from '../auth/authenticated-request';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import type { TokenClaims } from '../auth/token-claims';
import { ApiError } from '../api/api-error';
import { parseRequest } from '../api/request-validation';
import { WorkspaceAccessService } from '../api/workspace-access.service';

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

/**
 * Change webhooks of a workspace (docs/protocol.md#webhooks), tenant admins only: register (the
 * secret is returned once, generated when not given), list, delete. Delivery is the history
 * worker's `webhook-delivery` queue (visible on `/ops/queues`).
 */
@ApiTags('webhooks')
@Controller('api/workspaces/:id/webhooks')
@UseGuards(BearerAuthGuard)
export class WebhooksController {
  constructor(
    private readonly access: WorkspaceAccessService,
    private readonly hooks: WebhookStore,
  ) {}

  /** `POST /api/workspaces/{id}/webhooks {"url","events","secret"?}` → 201 with the secret. */
  @Post()
  @HttpCode(201)
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

  /** `GET /api/workspaces/{id}/webhooks` → the workspace's hooks, without secrets. */
  @Get()
  async list(
    @Claims() claims: TokenClaims,
    @Param('id') id: string,
  ): Promise<{ webhooks: WebhookResponse[] }> {
    await this.access.require(claims, id, 'admin');
    return { webhooks: (await this.hooks.list(claims.tid, id)).map(toResponse) };
  }

  /** `DELETE /api/workspaces/{id}/webhooks/{hookId}` → 204; deliveries still queued are skipped. */
  @Delete(':hookId')
  @HttpCode(204)
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
