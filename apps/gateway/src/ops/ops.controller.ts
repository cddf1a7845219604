import { AcceptsBody } from '../api/accepts-body';
import { Body, Controller, Get, Header, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { DiaryxMetrics } from '@diaryx-sync/runtime';
import { DIARYX_METRICS } from '../metrics/metrics.tokens';
import { LoginThrottle } from './login-throttle';
import { OpsAuth } from './ops-auth';
import { OPS_CSP, OPS_CSS, OPS_JS, dashboardPage, loginPage } from './ops-page';
import type { OpsState } from './ops-state';
import { OpsStateService } from './ops-state.service';

/**
 * The live cluster page (cluster `ADMIN_TOKEN` as a Bearer header, or the login form's cookie):
 * - `GET /ops` — the dashboard, or the login form with 401 when not signed in;
 * - `POST /ops/login` (`token=` form field) — sets the session cookie, 303 to `/ops`; failed
 *   attempts are throttled per source address ({@link LoginThrottle}: 429 with `Retry-After`);
 * - `POST /ops/logout` — clears it;
 * - `GET /ops/api/state` — the JSON the page polls ({@link OpsState}); 401 without auth;
 * - `GET /ops/assets/ops.js|ops.css` — static, no data, no auth.
 * `/ops/queues` belongs to Bull Board (history module).
 */
@Controller('ops')
export class OpsController {
  constructor(
    private readonly auth: OpsAuth,
    private readonly states: OpsStateService,
    private readonly throttle: LoginThrottle,
    @Inject(DIARYX_METRICS) private readonly metrics: DiaryxMetrics,
  ) {}

  @Get()
  page(@Req() req: Request, @Res() res: Response): void {
    const signedIn = this.auth.isAuthorized(req);
    html(res, signedIn ? 200 : 401, signedIn ? dashboardPage() : loginPage());
  }

  @Post('login')
  @AcceptsBody('application/x-www-form-urlencoded', 'application/json')
  login(@Req() req: Request, @Res() res: Response, @Body() body: unknown): void {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const wait = this.throttle.retryAfterSeconds(address);
    if (wait > 0) {
      // Locked out: refused without looking at the token, so guesses cost nothing but time.
      this.metrics.gateway.adminLogins.inc({ outcome: 'throttled' });
      res.setHeader('Retry-After', String(wait));
      html(res, 429, loginPage(`Too many failed attempts. Try again in ${wait} s.`));
      return;
    }
    const token =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).token : undefined;
    if (typeof token !== 'string' || !this.auth.isAdminToken(token)) {
      this.metrics.gateway.adminLogins.inc({ outcome: 'failed' });
      const lockout = this.throttle.failed(address);
      if (lockout > 0) res.setHeader('Retry-After', String(lockout));
      html(res, 401, loginPage('Invalid admin token.'));
      return;
    }
    this.throttle.succeeded(address);
    this.metrics.gateway.adminLogins.inc({ outcome: 'succeeded' });
    res.setHeader('Set-Cookie', this.auth.loginCookie(isHttps(req)));
    res.redirect(303, '/ops');
  }

  @Post('logout')
  @AcceptsBody('application/x-www-form-urlencoded', 'application/json')
  logout(@Res() res: Response): void {
    res.setHeader('Set-Cookie', this.auth.logoutCookie());
    res.redirect(303, '/ops');
  }

  @Get('api/state')
  async state(@Req() req: Request, @Res() res: Response): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    if (!this.auth.isAuthorized(req)) {
      res.status(401).setHeader('WWW-Authenticate', 'Bearer realm="diaryx-ops"');
      res.json({ error: { code: 'unauthorized', message: 'cluster admin token required' } });
      return;
    }
    const state: OpsState = await this.states.state();
    res.json(state);
  }

  @Get('assets/ops.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  script(): string {
    return OPS_JS;
  }

  @Get('assets/ops.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  style(): string {
    return OPS_CSS;
  }
}

function html(res: Response, status: number, body: string): void {
  res
    .status(status)
    .setHeader('Content-Type', 'text/html; charset=utf-8')
    .setHeader('Cache-Control', 'no-store')
    .setHeader('Content-Security-Policy', OPS_CSP)
    .setHeader('X-Content-Type-Options', 'nosniff')
    .setHeader('Referrer-Policy', 'no-referrer')
    .send(body);
}

function isHttps(req: Request): boolean {
  return (
    req.secure ||
    String(req.headers['x-forwarded-proto'] ?? '')
      .split(',')[0]
      .trim() === 'https'
  );
}
