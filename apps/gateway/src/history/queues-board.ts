/**
 * Bull Board (the BullMQ queues of the history worker) at `/ops/queues`, behind the cluster
 * `ADMIN_TOKEN` (Bearer header or the `/ops` login cookie).
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response, Express } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { HistoryQueues } from '@diaryx-sync/git-store';
import { OpsAuth } from '../ops/ops-auth';

/** Mount point of Bull Board. */
export const QUEUES_BOARD_PATH = '/ops/queues';

@Injectable()
export class QueuesBoard implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(HistoryQueues) private readonly queues: HistoryQueues,
    private readonly auth: OpsAuth,
  ) {}

  onModuleInit(): void {
    const http = this.adapterHost.httpAdapter;
    if (!http || http.getType() !== 'express') return;
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(QUEUES_BOARD_PATH);
    createBullBoard({ queues: this.queues.all().map((q) => new BullMQAdapter(q)), serverAdapter });
    const guard = (req: Request, res: Response, next: NextFunction) => {
      if (this.auth.isAuthorized(req)) return next();
      res.status(401).json({ error: { code: 'unauthorized', message: 'cluster admin token required' } });
    };
    (http.getInstance() as Express).use(
      QUEUES_BOARD_PATH,
      guard,
      serverAdapter.getRouter() as (req: Request, res: Response, next: NextFunction) => void,
    );
  }
}
