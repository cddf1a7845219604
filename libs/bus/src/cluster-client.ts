/**
 * `ClusterClient`: changes a document server-side as a FORWARD update (restore, rebuild, zip
 * import) through the doc's owning shard, so connected clients converge and the change is
 * durable. Used by the gateway HTTP API and the history worker.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { BusPubSub } from './bus-pubsub';
import { decodeEnvelopeOf, encodeEnvelope, EnvelopeDecodeError } from './envelope';
import { gatewayChannel, shardInboxChannel } from './names';
import { shardOf } from './shard';

/** Options of {@link ClusterClient}. */
export interface ClusterClientOptions {
  /** A normal connection (one node, Sentinel or Cluster); the client duplicates it for its subscription. */
  redis: Redis | Cluster;
  prefix: string;
  shardCount: number;
  /** Reject `applyUpdate` after this long without an answer (default 15000 ms). */
  timeoutMs?: number;
  /** Re-publish an unanswered request this often (default 2000 ms; 250 ms while no shard owner listens). */
  resendMs?: number;
}

/** Input of {@link ClusterClient.applyUpdate}. */
export interface ApplyUpdateRequest {
  tenant: string;
  docId: string;
  /** A Yjs update (encoding v1). */
  update: Uint8Array;
  /** Recorded as the update log's origin, e.g. `restore`, `rebuild`, `import`. */
  origin: string;
}

/** `applyUpdate` failed: the shard answered with an error, timed out, or the client closed. */
export class ClusterRequestError extends Error {
  override readonly name = 'ClusterRequestError';
  constructor(
    message: string,
    /** `timeout`, `closed`, or the doc service's {@link BusErrorCode}. */
    readonly code: string,
  ) {
    super(message);
  }
}

interface Pending {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** See module doc. One instance per process is enough; it is safe for concurrent use. */
export class ClusterClient {
  /** Reply channel id of this client (`gatewayChannel(prefix, id)`). */
  readonly id = `cc-${randomUUID()}`;
  private readonly bus: BusPubSub;
  private readonly pending = new Map<string, Pending>();
  private readonly ready: Promise<unknown>;
  private closed = false;

  constructor(private readonly opts: ClusterClientOptions) {
    this.bus = new BusPubSub({
      redis: opts.redis,
      onMessage: (_channel, message) => this.onMessage(message),
    });
    this.ready = this.bus.subscribe(gatewayChannel(opts.prefix, this.id));
  }

  /**
   * Sends `update` to the owning shard of `docId`; resolves once it is applied, persisted in
   * PostgreSQL and broadcast. Retries while no owner answers (idempotent); rejects with
   * {@link ClusterRequestError} after the timeout or on an error answer.
   */
  async applyUpdate(req: ApplyUpdateRequest): Promise<void> {
    if (this.closed) throw new ClusterRequestError('cluster client is closed', 'closed');
    await this.ready;
    const msgId = randomUUID();
    const channel = shardInboxChannel(this.opts.prefix, shardOf(req.tenant, req.docId, this.opts.shardCount));
    const bytes = Buffer.from(
      encodeEnvelope({
        type: 'apply',
        msgId,
        replyTo: this.id,
        tenant: req.tenant,
        docId: req.docId,
        update: req.update,
        origin: req.origin,
      }),
    );
    const timeoutMs = this.opts.timeoutMs ?? 15000;
    const resendMs = this.opts.resendMs ?? 2000;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        if (!this.pending.delete(msgId)) return;
        clearTimeout(timer);
        clearTimeout(deadline);
        if (err) reject(err);
        else resolve();
      };
      const deadline = setTimeout(
        () =>
          finish(
            new ClusterRequestError(
              `no shard owner applied the update of ${req.docId} within ${timeoutMs} ms`,
              'timeout',
            ),
          ),
        timeoutMs,
      );
      this.pending.set(msgId, { resolve: () => finish(), reject: (err) => finish(err) });
      const send = () => {
        if (!this.pending.has(msgId)) return;
        this.bus.publish(channel, bytes).then(
          (receivers) => {
            timer = setTimeout(send, receivers === 0 ? Math.min(250, resendMs) : resendMs);
          },
          () => {
            timer = setTimeout(send, Math.min(500, resendMs));
          },
        );
      };
      send();
    });
  }

  /** Unsubscribes and rejects pending requests. Does not close the `redis` passed in. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.pending.values()])
      p.reject(new ClusterRequestError('cluster client closed', 'closed'));
    this.pending.clear();
    await this.ready.catch(() => undefined);
    await this.bus.close();
  }

  private onMessage(message: Buffer): void {
    let env;
    try {
      env = decodeEnvelopeOf(message, ['applied', 'error']);
    } catch (err) {
      if (err instanceof EnvelopeDecodeError) return;
      throw err;
    }
    const p = this.pending.get(env.msgId);
    if (!p) return;
    if (env.type === 'applied') p.resolve();
    else p.reject(new ClusterRequestError(`${env.code}: ${env.message}`, env.code));
  }
}
