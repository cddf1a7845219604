import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { WsAdapter } from '@nestjs/platform-ws';
import { createLogger, type Logger } from '@diaryx-sync/runtime';
import { ApiExceptionFilter } from './api/api-exception.filter';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/gateway-config';
import { PinoNestLogger } from './infra/pino-nest-logger';

/** Options of {@link createGatewayApp}. */
export interface CreateGatewayAppOptions {
  /** Logger for Nest's own messages (default: a pino logger at `LOG_LEVEL`). */
  logger?: Logger;
}

/**
 * Builds (but does not start) the gateway Nest application: module tree for `config`, the `ws`
 * WebSocket adapter, the JSON error filter of the HTTP API. Migrations run during `app.init()` /
 * `app.listen()`. Used by `main.ts` and by in-process tests (`await app.listen(0)`).
 */
export async function createGatewayApp(
  config: GatewayConfig,
  options: CreateGatewayAppOptions = {},
): Promise<NestExpressApplication> {
  const logger = options.logger ?? createLogger('gateway', config.LOG_LEVEL);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    forceCloseConnections: true,
    abortOnError: false,
  });
  configureGatewayApp(app);
  return app;
}

/** Applies the app-wide settings that are not modules (adapter, filters, proxy trust). */
export function configureGatewayApp(app: INestApplication): void {
  app.useWebSocketAdapter(new WsAdapter(app));
  app.useGlobalFilters(new ApiExceptionFilter());
  (app as NestExpressApplication).disable?.('x-powered-by');
}
