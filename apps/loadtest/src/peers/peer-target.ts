/**
 * Peer servers of `npm run bench:peers`, started on loopback as child processes of this tool
 * (fresh process per scenario): the y-websocket server, Hocuspocus, and Hocuspocus with its
 * Redis extension on 2 processes.
 */
import crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../target/local-cluster';
import type { Target } from '../target/target';

export type PeerKind = 'y-websocket' | 'hocuspocus' | 'hocuspocus-redis';

export const PEER_KINDS: readonly PeerKind[] = ['y-websocket', 'hocuspocus', 'hocuspocus-redis'];

function entry(file: string): string {
  const here = path.join(__dirname, file);
  if (fs.existsSync(here)) return here;
  return path.resolve(__dirname, '../../dist/peers', file);
}

async function waitHttp(port: number, child: ChildProcess, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`peer server exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.status < 500)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`peer server on ${port} not up after ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a peer server (1 process, or 2 sharing Redis for `hocuspocus-redis`). */
export async function startPeer(kind: PeerKind): Promise<Target> {
  const script = kind === 'y-websocket' ? 'y-websocket-server.js' : 'hocuspocus-server.js';
  const processes = kind === 'hocuspocus-redis' ? 2 : 1;
  const prefix = `lt-hp-${crypto.randomBytes(4).toString('hex')}`;
  const children: Array<{ child: ChildProcess; port: number }> = [];
  for (let i = 0; i < processes; i++) {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
    if (kind === 'hocuspocus-redis') {
      env.REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
      env.REDIS_PREFIX = prefix;
    }
    const child = spawn(process.execPath, [entry(script)], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push({ child, port });
  }
  try {
    for (const c of children) await waitHttp(c.port, c.child);
  } catch (err) {
    await Promise.all(children.map((c) => stopChild(c.child)));
    throw err;
  }
  const protocol = kind === 'y-websocket' ? 'yjs' : 'hocuspocus';
  const label =
    kind === 'y-websocket'
      ? 'y-websocket (@y/websocket-server 0.1.1, 1 process)'
      : kind === 'hocuspocus'
        ? 'Hocuspocus (@hocuspocus/server 3.4.4, 1 process)'
        : 'Hocuspocus + extension-redis (2 processes)';
  return {
    label,
    endpoints: children.map((c) => ({ protocol, base: `ws://127.0.0.1:${c.port}`, token: 'loadtest' })),
    docId: (name) => `loadtest/${name}`,
    processes: children.map((c, i) => ({ name: `${kind}-${i + 1}`, pid: () => c.child.pid })),
    metricsUrls: [],
    local: true,
    async unloadDocs() {
      // Both servers store and unload a doc when its last client leaves (Hocuspocus may take a
      // store round trip): give them a moment after every client closed.
      await new Promise((r) => setTimeout(r, 3000));
      return 'every client closed; the server stored and unloaded the doc (3 s grace)';
    },
    async close() {
      await Promise.all(children.map((c) => stopChild(c.child)));
    },
  };
}
