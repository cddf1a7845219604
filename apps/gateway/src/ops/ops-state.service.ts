import { Inject, Injectable } from '@nestjs/common';
import { listInstances, queuePrefix } from '@diaryx-sync/bus';
import type { Pool } from 'pg';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { GATEWAY_INSTANCE_ID, PG_POOL, REDIS } from '../infra/infra.tokens';
import {
  type OpsAuditRow,
  type OpsHealthRow,
  type OpsState,
  type OpsWebhookDelivery,
  type QueueCounts,
  buildOpsState,
} from './ops-state';
import type { RedisClient } from '@diaryx-sync/runtime';

/** The history queues (docs/architecture.md#jobs), read directly when no worker reports them. */
export const HISTORY_QUEUE_NAMES = ['compaction', 'validation', 'git-commit', 'rebuild', 'restore'] as const;

/** PostgreSQL "relation does not exist": a table whose owner has not migrated yet. */
const UNDEFINED_TABLE = '42P01';

/**
 * Collects the `/ops` state: heartbeats from Redis and the history worker's tables from
 * PostgreSQL (read-only; the gateway asks no service for anything). A part that cannot be read
 * becomes a warning on the page instead of an error.
 */
@Injectable()
export class OpsStateService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(GATEWAY_INSTANCE_ID) private readonly instanceId: string,
  ) {}

  async state(): Promise<OpsState> {
    const warnings: string[] = [];
    const soft = async <T>(what: string, fallback: T, read: () => Promise<T>): Promise<T> => {
      try {
        return await read();
      } catch (err) {
        const code = (err as { code?: string }).code;
        warnings.push(
          code === UNDEFINED_TABLE ? `${what}: table not created yet` : `${what}: ${(err as Error).message}`,
        );
        return fallback;
      }
    };
    const instances = await soft('heartbeats', [], () => listInstances(this.redis, this.config.REDIS_PREFIX));
    const hasWorker = instances.some((i) => i.kind === 'history-worker');
    const [
      redisQueueDepths,
      tenants,
      workspaces,
      health,
      rebuilds,
      failedValidations,
      repairs,
      alerts,
      webhookDeliveries,
      webhookFailures,
    ] = await Promise.all([
      hasWorker ? Promise.resolve(undefined) : soft('queue depths', undefined, () => this.readQueueDepths()),
      soft('tenants', [], () =>
        this.query<{ id: string; name: string }>('SELECT id, name FROM tenants ORDER BY id LIMIT 1000'),
      ),
      soft('workspaces', [], () =>
        this.query<{ tenant: string; workspace: string; name: string }>(
          'SELECT tenant_id AS tenant, id AS workspace, name FROM workspaces ORDER BY tenant_id, id LIMIT 1000',
        ),
      ),
      soft('workspace health', [], () => this.readHealth()),
      soft('rebuilds', [], () => this.readAudit(['rebuild'])),
      soft('failed validations', [], () => this.readAudit(['validation_failed'])),
      soft('repairs', [], () => this.readAudit(['repair'])),
      soft('validation alerts', [], () => this.readAudit(['validation_alert'])),
      soft('webhook deliveries', [], () => this.readWebhookDeliveries(['delivered', 'failed', 'gave_up'])),
      soft('webhook failures', [], () => this.readWebhookDeliveries(['failed', 'gave_up'])),
    ]);
    return buildOpsState({
      now: new Date(),
      servedBy: this.instanceId,
      prefix: this.config.REDIS_PREFIX,
      shardCount: this.config.SHARD_COUNT,
      instances,
      redisQueueDepths,
      tenants,
      workspaces,
      health,
      rebuilds,
      failedValidations,
      repairs,
      alerts,
      webhookDeliveries,
      webhookFailures,
      warnings,
    });
  }

  private async query<T extends object>(sql: string, args: unknown[] = []): Promise<T[]> {
    return (await this.pool.query<T>(sql, args)).rows;
  }

  private async readHealth(): Promise<OpsHealthRow[]> {
    const rows = await this.query<{
      tenant: string;
      workspace: string;
      consecutive_failures: number;
      issues: number | null;
      last_checked_at: Date | null;
      last_ok_at: Date | null;
      last_good_commit: string | null;
    }>(
      `SELECT tenant, workspace, consecutive_failures,
              CASE WHEN jsonb_typeof(last_issues) = 'array' THEN jsonb_array_length(last_issues) ELSE 0 END AS issues,
              last_checked_at, last_ok_at, last_good_commit
         FROM workspace_health
        ORDER BY consecutive_failures DESC, last_checked_at DESC NULLS LAST
        LIMIT 1000`,
    );
    return rows.map((r) => ({
      ...r,
      issues: Number(r.issues ?? 0),
      last_checked_at: r.last_checked_at?.toISOString() ?? null,
      last_ok_at: r.last_ok_at?.toISOString() ?? null,
    }));
  }

  private async readAudit(events: string[]): Promise<OpsAuditRow[]> {
    const rows = await this.query<Omit<OpsAuditRow, 'created_at'> & { created_at: Date }>(
      `SELECT tenant, workspace, event, actor, commit_id, backup_key, details, created_at
         FROM history_audit WHERE event = ANY($1) ORDER BY id DESC LIMIT 20`,
      [events],
    );
    return rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() }));
  }

  private async readWebhookDeliveries(outcomes: string[]): Promise<OpsWebhookDelivery[]> {
    const rows = await this.query<Omit<OpsWebhookDelivery, 'created_at'> & { created_at: Date }>(
      `SELECT tenant, workspace, webhook_id, event_type AS event, url_host, attempt, outcome,
              http_status, error, duration_ms, created_at
         FROM webhook_deliveries WHERE outcome = ANY($1) ORDER BY id DESC LIMIT 30`,
      [outcomes],
    );
    return rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() }));
  }

  /** BullMQ job counts straight from its Redis keys (`${queuePrefix}:${queue}:wait|active|delayed|failed`, one slot). */
  private async readQueueDepths(): Promise<Record<string, QueueCounts>> {
    const p = queuePrefix(this.config.REDIS_PREFIX);
    const pipeline = this.redis.pipeline();
    for (const q of HISTORY_QUEUE_NAMES) {
      pipeline
        .llen(`${p}:${q}:wait`)
        .llen(`${p}:${q}:active`)
        .zcard(`${p}:${q}:delayed`)
        .zcard(`${p}:${q}:failed`);
    }
    const results = (await pipeline.exec()) ?? [];
    const n = (i: number) => Number(results[i]?.[1] ?? 0);
    return Object.fromEntries(
      HISTORY_QUEUE_NAMES.map((q, i) => [
        q,
        { waiting: n(i * 4), active: n(i * 4 + 1), delayed: n(i * 4 + 2), failed: n(i * 4 + 3) },
      ]),
    );
  }
}
