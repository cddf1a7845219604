import { type INestApplication } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createLogger, type Logger } from '@diaryx-sync/runtime';
import { BodyMediaTypeInterceptor } from './api/accepts-body';
import { ApiExceptionFilter } from './api/api-exception.filter';
import { enableCors } from './api/cors';
import { mountOpenApi } from './api/openapi';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/gateway-config';
import { PinoNestLogger } from './infra/pino-nest-logger';

/** Options of {@link createGatewayApp}. */
export interface CreateGatewayAppOptions {
  /** Logger for Nest's own messages (default: a pino logger at `LOG_LEVEL`). */
  logger?: Logger;
}

/**
 * Builds (but does not start) the gateway Nest application: module tree for `config`, the JSON
 * error filter of the HTTP API (WebSocket upgrades are taken by `SyncServer`, not by Nest). Migrations run during `app.init()` /
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
  configureGatewayApp(app, config);
  if (config.TRUST_PROXY_HOPS > 0) app.set('trust proxy', config.TRUST_PROXY_HOPS);
  return app;
}

/**
 * Largest JSON request body (bytes): the largest legitimate one, `POST /api/tokens` with 1,000
 * workspace ids, is about 70 KB. Larger bodies get 413 `payload_too_large` before being parsed.
 */
export const MAX_JSON_BODY_BYTES = 128 * 1024;
/** Largest form body (bytes; only the `/ops` login form uses one). */
export const MAX_FORM_BODY_BYTES = 8 * 1024;

/**
 * Applies the app-wide HTTP conventions that are not modules (docs/protocol.md#http-conventions):
 * body limits, CORS, the body media-type check (415), the JSON error filter (codes, 405), the
 * OpenAPI document. They apply to every controller, including ones added later.
 */
export function configureGatewayApp(app: INestApplication, config: GatewayConfig): void {
  enableCors(app, config.CORS_ORIGINS);
  // Explicit limits for every parsed body (zip uploads are raw and streamed to disk instead).
  (app as NestExpressApplication).useBodyParser?.('json', { limit: MAX_JSON_BODY_BYTES });
  (app as NestExpressApplication).useBodyParser?.('urlencoded', {
    limit: MAX_FORM_BODY_BYTES,
    extended: false,
  });
  app.useGlobalFilters(new ApiExceptionFilter());
  app.useGlobalInterceptors(new BodyMediaTypeInterceptor(app.get(Reflector)));
  mountOpenApi(app);
  (app as NestExpressApplication).disable?.('x-powered-by');
}
