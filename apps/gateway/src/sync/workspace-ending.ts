/**
 * Ends a deleted workspace across the cluster (docs/workspace-deletion.md), called by
 * `DELETE /api/workspaces/{id}` after the workspace row is gone (from then on the database guard
 * refuses every append of the workspace) and BEFORE its storage is deleted:
 *
 * 1. `workspace_deleted` on the workspace-deletions channel: every gateway closes its connections
 *    to the workspace's docs with 4403;
 * 2. the same envelope to EVERY shard inbox: each owner drops the workspace's docs of its shard
 *    and answers `workspace_ended`; shards that did not answer (no owner right now, or a moving
 *    lease) get it again every {@link RESEND_MS} until all answered or `deadlineMs` passed; a shard
 *    nobody subscribes to for {@link NO_OWNER_MS} counts as ended (it has nothing in memory).
 */
import { randomUUID } from 'node:crypto';
import { encodeEnvelope, type WorkspaceEndedEnvelope } from '@diaryx-sync/bus';
import type { Logger } from '@diaryx-sync/runtime';
import type { ClusterLink } from './cluster-link';

const RESEND_MS = 250;
/** A shard without any subscriber for this long counts as ended (no owner, nothing in memory). */
const NO_OWNER_MS = 1000;

/** How one workspace ending went. */
export interface WorkspaceEnding {
  /** Shards whose owner confirmed (dropped the docs), or that had no owner. */
  shardsEnded: number;
  /** Shards in the cluster. */
  shardCount: number;
}

interface Waiting {
  shards: Set<number>;
  changed: () => void;
}

/** See module doc. */
export class WorkspaceEnder {
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly link: ClusterLink,
    private readonly gatewayId: string,
    private readonly logger: Logger,
    private readonly deadlineMs = 10_000,
  ) {}

  /** Ends `workspace` of `tenant` everywhere; resolves once every shard confirmed or the deadline passed. */
  async end(tenant: string, workspace: string): Promise<WorkspaceEnding> {
    const msgId = randomUUID();
    const shardCount = this.link.shardCount;
    const shards = new Set(Array.from({ length: shardCount }, (_, i) => i));
    const env = { type: 'workspace_deleted' as const, msgId, replyTo: this.gatewayId, tenant, workspace };
    const encoded = encodeEnvelope(env);
    const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    let wake: () => void = () => undefined;
    this.waiting.set(msgId, { shards, changed: () => wake() });
    const deadline = Date.now() + this.deadlineMs;
    try {
      await this.link.publishWorkspaceDeleted(env).catch((err: Error) => {
        this.logger.warn(
          { err: err.message, tenant, workspace },
          'workspace deletion not announced to gateways',
        );
      });
      const noOwnerSince = new Map<number, number>();
      while (shards.size > 0 && Date.now() < deadline) {
        await Promise.all(
          [...shards].map(async (shard) => {
            const listeners = await this.link.publishEncoded(shard, bytes);
            if (listeners > 0) return noOwnerSince.delete(shard);
            // nobody owns the shard: nothing of it is in memory (its next owner loads nothing)
            const since = noOwnerSince.get(shard) ?? Date.now();
            noOwnerSince.set(shard, since);
            if (Date.now() - since >= NO_OWNER_MS) shards.delete(shard);
          }),
        );
        if (shards.size === 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, RESEND_MS);
          wake = () => {
            if (shards.size > 0) return;
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      this.waiting.delete(msgId);
    }
    if (shards.size > 0) {
      this.logger.warn(
        { tenant, workspace, unanswered: [...shards] },
        'workspace deletion: some shard owners did not confirm in time; appends are refused by the database guard',
      );
    }
    return { shardsEnded: shardCount - shards.size, shardCount };
  }

  /** A shard owner's `workspace_ended`. */
  onEnded(env: WorkspaceEndedEnvelope): void {
    const w = this.waiting.get(env.msgId);
    if (!w) return;
    w.shards.delete(env.shard);
    w.changed();
  }
}
