import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Registry } from 'prom-client';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/**
 * `GET /metrics`: Prometheus text exposition of the gateway registry (no authentication), on the
 * main port only while `METRICS_PORT` is 0; with a `METRICS_PORT` it answers 404 here and the
 * metrics live on that port alone (MetricsModule), out of reach of the public proxy/Ingress.
 */
@Controller()
@ApiTags('health')
export class MetricsController {
  constructor(
    private readonly registry: Registry,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  @ApiProduces('text/plain')
  @ApiResponse({
    status: 200,
    description: 'Prometheus text exposition',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiResponse({ status: 404, description: 'served on METRICS_PORT instead' })
  async metrics(@Res() res: Response): Promise<void> {
    if (this.config.METRICS_PORT > 0) {
      res.status(404).json({ error: { code: 'not_found', message: 'metrics are served on METRICS_PORT' } });
      return;
    }
    const body = await this.registry.metrics();
    res.status(200).type(this.registry.contentType).send(body);
  }
}
