import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Registry } from 'prom-client';

/** `GET /metrics`: Prometheus text exposition of the gateway registry (no authentication). */
@Controller()
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async metrics(@Res() res: Response): Promise<void> {
    const body = await this.registry.metrics();
    res.status(200).type(this.registry.contentType).send(body);
  }
}
