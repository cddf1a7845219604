import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { z } from 'zod';
import { JsonResponse } from '../api/openapi-decorators';

const readinessSchema = (status: string) =>
  z.object({ status: z.literal(status), checks: z.record(z.unknown()) });
import { ReadinessService } from './readiness.service';

/** `GET /healthz` (liveness) and `GET /readyz` (readiness); no authentication. */
@Controller()
@ApiTags('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** `200 {"status":"ok"}` while the process serves HTTP. */
  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  @JsonResponse(200, 'the process serves HTTP', z.object({ status: z.literal('ok') }))
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** `200 {"status":"ready","checks":{…}}` or `503 {"status":"not_ready","checks":{…}}`. */
  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  @JsonResponse(200, 'ready', readinessSchema('ready'))
  @JsonResponse(503, 'not ready (or draining)', readinessSchema('not_ready'))
  async readyz(@Res() res: Response): Promise<void> {
    const report = await this.readiness.check();
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks });
  }
}
