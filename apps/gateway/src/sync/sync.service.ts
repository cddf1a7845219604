/**
 * NestJS glue of the real-time side: builds the cluster link, hub and WebSocket server from the
 * app's providers, attaches to the HTTP server at bootstrap, and drains on shutdown
 * (`enableShutdownHooks`: SIGTERM → close sockets with 1001 after in-flight acks).
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type HeartbeatHandle, listInstances } from '@diaryx-sync/bus';
import type { DiaryxMetrics, Logger, RedisClient } from '@diaryx-sync/runtime';
import type { Server } from 'node:http';
import { AuthService } from '../auth/auth.service';
import { TokenRevocations } from '../auth/token-revocations';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { GATEWAY_INSTANCE_ID, REDIS, ROOT_LOGGER } from '../infra/infra.tokens';
import { DIARYX_METRICS } from '../metrics/metrics.tokens';
import { WorkspaceStore } from '../tenancy/workspace.store';
import { ClusterLink } from './cluster-link';
import { ClusterTenantView } from './cluster-tenant-view';
import { DocAuthorizer } from './doc-authorizer';
import { startGatewayHeartbeat } from './gateway-heartbeat';
import { syncSettingsOf, type SyncSettings } from './sync-config';
import { SyncHub } from './sync-hub';
import { SyncServer } from './sync-server';
import { WorkspaceEnder, type WorkspaceEnding } from './workspace-ending';

/** See module doc. */
@Injectable()
export class SyncService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly settings: SyncSettings;
  private readonly logger: Logger;
  private link: ClusterLink | undefined;
  private hub: SyncHub | undefined;
  private server: SyncServer | undefined;
  private heartbeat: HeartbeatHandle | undefined;
  private tenantView: ClusterTenantView | undefined;
  private ender: WorkspaceEnder | undefined;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthService,
    private readonly revocations: TokenRevocations,
    private readonly workspaces: WorkspaceStore,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    @Inject(GATEWAY_INSTANCE_ID) private readonly gatewayId: string,
    @Inject(DIARYX_METRICS) private readonly metrics: DiaryxMetrics,
  ) {
    this.logger = rootLogger.child({ component: 'sync' });
    this.settings = syncSettingsOf(config);
  }

  /**
   * Ends a deleted workspace across the cluster: every gateway closes its connections to the
   * workspace's docs (4403), every shard owner drops its docs (docs/workspace-deletion.md).
   */
  async endWorkspace(tenant: string, workspace: string): Promise<WorkspaceEnding> {
    if (!this.ender) throw new Error('sync service not started');
    return this.ender.end(tenant, workspace);
  }

  /**
   * Announces a revoked share link: every gateway closes the connections that joined with it
   * (4403, docs/protocol.md#share-links).
   */
  async revokeShare(tenant: string, workspace: string, share: string): Promise<void> {
    if (!this.link) throw new Error('sync service not started');
    await this.link.publishShareRevoked({ type: 'share_revoked', tenant, workspace, share });
  }

  /** Open WebSocket connections on this gateway. */
  get connectionCount(): number {
    return this.server?.connectionCount ?? 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    const hubRef: { hub?: SyncHub } = {};
    this.link = new ClusterLink({
      redis: this.redis,
      prefix: this.config.REDIS_PREFIX,
      shardCount: this.config.SHARD_COUNT,
      gatewayId: this.gatewayId,
      logger: this.logger,
      handlers: {
        onReplyChannel: (env) => hubRef.hub?.onReplyChannel(env),
        onBroadcast: (env) => hubRef.hub?.onBroadcast(env),
        onWorkspaceEvent: (env) => hubRef.hub?.onWorkspaceEvent(env),
        onShardAcquired: (env) => hubRef.hub?.onShardAcquired(env),
        onResubscribed: () => hubRef.hub?.onResubscribed(),
        onWorkspaceDeleted: (env) => hubRef.hub?.closeWorkspace(env.tenant, env.workspace),
        onWorkspaceEnded: (env) => this.ender?.onEnded(env),
        onShareRevoked: (env) => {
          this.auth.shareRevoked(env.tenant, env.share);
          hubRef.hub?.closeShare(env.tenant, env.share);
        },
      },
    });
    this.ender = new WorkspaceEnder(this.link, this.gatewayId, this.logger);
    this.hub = hubRef.hub = new SyncHub(this.link, this.gatewayId, this.settings, this.metrics, this.logger);
    await this.link.start();
    let lastViewError = '';
    const tenantView = (this.tenantView = new ClusterTenantView({
      gatewayId: this.gatewayId,
      read: () => listInstances(this.redis, this.config.REDIS_PREFIX, 'gateway'),
      onRefresh: (view) => {
        lastViewError = '';
        this.server?.tenantRates.setLiveGateways(view.liveGateways);
      },
      onError: (err) => {
        if (err.message !== lastViewError)
          this.logger.warn({ err: err.message }, 'reading gateway heartbeats failed');
        lastViewError = err.message;
      },
    }));
    this.server = new SyncServer({
      verifier: this.auth,
      authorizer: new DocAuthorizer(this.auth, this.workspaces),
      hub: this.hub,
      settings: this.settings,
      metrics: this.metrics.gateway,
      logger: this.logger,
      otherGatewayConnections: (tenant) => tenantView.otherConnections(tenant),
    });
    await tenantView.refresh();
    tenantView.start();
    this.server.attach(this.adapterHost.httpAdapter.getHttpServer() as Server);
    this.revocations.onRevoked((jti) => {
      const closed = this.server?.closeToken(jti) ?? 0;
      if (closed > 0) this.logger.info({ jti, closed }, 'revoked token: sockets closed');
    });
    this.heartbeat = startGatewayHeartbeat({
      redis: this.redis,
      prefix: this.config.REDIS_PREFIX,
      gatewayId: this.gatewayId,
      hub: this.hub,
      tenants: this.server.tenants,
      logger: this.logger,
    });
    this.logger.info(
      { gatewayId: this.gatewayId, settings: this.settings },
      'WebSocket endpoints /sync2 and /yjs ready',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.server) {
      this.logger.info({ connections: this.server.connectionCount }, 'draining WebSocket connections');
      await this.server.drain();
    }
    await this.heartbeat?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    this.tenantView?.stop();
    this.server?.close();
    this.hub?.stop();
    await this.link?.close();
  }
}
