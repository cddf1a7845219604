/**
 * Bull Board (the BullMQ queues of the history worker) at `/ops/queues`, behind the cluster
 * `ADMIN_TOKEN` (Bearer header or the `/ops` login cookie). Read-only unless
 * `OPS_QUEUES_WRITE=true`: the UI runs in Bull Board's read-only mode and the gateway answers
 * every non-GET request with 403 `read_only`. Self-contained: the page's link to Google Fonts is
 * removed (the UI falls back to the system font) and a Content-Security-Policy allows only this
 * origin, so an operator's browser loads nothing from the internet.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, RequestHandler, Response, Express } from 'express';
import type * as BullBoardApi from '@bull-board/api';
import type * as BullBoardAdapter from '@bull-board/api/bullMQAdapter';
import type * as BullBoardExpress from '@bull-board/express';
import { HistoryQueues } from '@diaryx-sync/bus';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { OpsAuth } from '../ops/ops-auth';

/** Mount point of Bull Board. */
export const QUEUES_BOARD_PATH = '/ops/queues';

/** Content-Security-Policy of Bull Board's answers: this origin only (its inline styles allowed). */
export const QUEUES_BOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'";

/** Drops `<link>` tags that load from another origin (Bull Board's Google Fonts stylesheet). */
export function stripExternalLinks(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*>\s*/gi, '');
}

@Injectable()
export class QueuesBoard implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(HistoryQueues) private readonly queues: HistoryQueues,
    private readonly auth: OpsAuth,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onModuleInit(): void {
    const http = this.adapterHost.httpAdapter;
    if (!http || http.getType() !== 'express') return;
    const writable = this.config.OPS_QUEUES_WRITE === 'true';
    let board: RequestHandler | undefined;
    // Bull Board (its express router, UI assets and BullMQ) is built on the first request: an
    // operator page, it would otherwise cost every gateway about 10 MB of heap from start-up.
    const boardRouter: RequestHandler = (req, res, next) => {
      board ??= this.createBoard(writable);
      board(req, res, next);
    };
    const guard = (req: Request, res: Response, next: NextFunction) => {
      if (!this.auth.isAuthorized(req)) {
        res.status(401).json({ error: { code: 'unauthorized', message: 'cluster admin token required' } });
        return;
      }
      if (!writable && req.method !== 'GET' && req.method !== 'HEAD') {
        res.status(403).json({
          error: {
            code: 'read_only',
            message: 'queues are read-only (set OPS_QUEUES_WRITE=true to change jobs)',
          },
        });
        return;
      }
      res.setHeader('Content-Security-Policy', QUEUES_BOARD_CSP);
      const send = res.send.bind(res);
      res.send = (body?: unknown) =>
        send(typeof body === 'string' && body.includes('<html') ? stripExternalLinks(body) : body);
      next();
    };
    (http.getInstance() as Express).use(QUEUES_BOARD_PATH, guard, boardRouter);
  }

  /** Bull Board's express router over every history queue. */
  private createBoard(writable: boolean): RequestHandler {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { createBullBoard } = require('@bull-board/api') as typeof BullBoardApi;
    const { BullMQAdapter } = require('@bull-board/api/bullMQAdapter') as typeof BullBoardAdapter;
    const { ExpressAdapter } = require('@bull-board/express') as typeof BullBoardExpress;
    /* eslint-enable @typescript-eslint/no-require-imports */
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(QUEUES_BOARD_PATH);
    createBullBoard({
      queues: this.queues.all().map((q) => new BullMQAdapter(q, { readOnlyMode: !writable })),
      serverAdapter,
    });
    return serverAdapter.getRouter() as RequestHandler;
  }
}
