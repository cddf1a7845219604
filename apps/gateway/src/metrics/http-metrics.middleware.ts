import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { DiaryxMetrics } from '@diaryx-sync/runtime';
import type { NextFunction, Request, Response } from 'express';
import { DIARYX_METRICS } from './metrics.tokens';

/**
 * Observes `diaryx_http_request_duration_seconds{method,route,status}` for every HTTP request.
 * `route` is the matched route pattern (`/api/workspaces/:id`), never the raw URL, so label
 * cardinality stays bounded; unmatched requests are reported as `unmatched`.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(@Inject(DIARYX_METRICS) private readonly metrics: DiaryxMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof routePath === 'string' ? `${req.baseUrl ?? ''}${routePath}` : 'unmatched';
      this.metrics.http.requestDuration.observe(
        { method: req.method, route, status: String(res.statusCode) },
        seconds,
      );
    });
    next();
  }
}
