import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ReadinessService } from './readiness.service';

/** `GET /healthz` (liveness) and `GET /readyz` (readiness); no authentication. */
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  /** `200 {"status":"ok"}` while the process serves HTTP. */
  @Get('healthz')
  @Header('Cache-Control', 'no-store')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** `200 {"status":"ready","checks":{…}}` or `503 {"status":"not_ready","checks":{…}}`. */
  @Get('readyz')
  @Header('Cache-Control', 'no-store')
  async readyz(@Res() res: Response): Promise<void> {
    const report = await this.readiness.check();
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks });
  }
}
