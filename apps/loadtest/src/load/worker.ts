/**
 * Entry of a load worker thread (`node:worker_threads`): runs the commands of
 * load/worker-protocol.ts and reports its event-loop delay every second.
 */
import { parentPort } from 'node:worker_threads';
import { EventLoopProbe } from './event-loop';
import { FanoutShard } from './fanout-shard';
import { openIdleConnections, joinDoc, type IdleConnections } from './idle';
import type { FanoutFinish, WorkerCommand, WorkerEvent, WorkerRequest } from './worker-protocol';

if (!parentPort) throw new Error('load/worker.js must run in a worker thread');
const port = parentPort;
const post = (event: WorkerEvent) => port.postMessage(event);

const probe = new EventLoopProbe();
const eldTimer = setInterval(() => post({ type: 'eld', ...probe.take() }), 1000);

let shard: FanoutShard | null = null;
/** Every set of idle connections opened so far (the `connections` scenario opens two). */
const idle: IdleConnections[] = [];

async function execute(command: WorkerCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'fanout-connect':
      shard = new FanoutShard(command.config);
      await shard.connect();
      return null;
    case 'fanout-run':
      await requireShard().run(command.times, (tick) => post({ type: 'tick', tick }), command.drainTimeoutMs);
      return null;
    case 'fanout-mark':
      requireShard().markFrom(command.at);
      return null;
    case 'fanout-finish': {
      const s = requireShard();
      const saveFailures = command.save ? await s.saveAll() : 0;
      const convergence = await s.converge(command.convergeTimeoutMs);
      const result: FanoutFinish = {
        totals: s.totals(),
        convergence,
        recoveredAt: s.recoveredAt(),
        saveFailures,
        editsScheduled: s.editsScheduled,
        messages: s.messages(),
      };
      s.closeAll();
      return result;
    }
    case 'idle-connect': {
      const opened = await openIdleConnections(command.endpoints, command.docIds, command.concurrency);
      idle.push(opened);
      return opened.result;
    }
    case 'idle-status':
      return idle
        .map((set) => set.status())
        .reduce((a, b) => ({ open: a.open + b.open, dropped: a.dropped + b.dropped }), {
          open: 0,
          dropped: 0,
        });
    case 'join':
      return joinDoc(command.endpoint, command.docId, command.count, command.lastMarker, command.timeoutMs);
    case 'close':
      shard?.closeAll();
      for (const set of idle) set.close();
      clearInterval(eldTimer);
      probe.stop();
      setTimeout(() => process.exit(0), 200);
      return null;
  }
}

function requireShard(): FanoutShard {
  if (!shard) throw new Error('fanout-connect first');
  return shard;
}

port.on('message', (request: WorkerRequest) => {
  execute(request.command).then(
    (result) => post({ type: 'reply', id: request.id, result }),
    (err: unknown) =>
      post({ type: 'failed', id: request.id, message: err instanceof Error ? err.message : String(err) }),
  );
});
