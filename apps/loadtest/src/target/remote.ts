/** A running deployment given by URL (`--server`), with `--token` or `--admin-token`. */
import crypto from 'node:crypto';
import type { WireProtocol } from '../wire/wire';
import { httpBaseOf, provisionWithAdminToken } from './provision';
import type { Target } from './target';

export interface RemoteOptions {
  server: string;
  protocol: Extract<WireProtocol, 'sync2' | 'yjs'>;
  /** An editor token for `workspace`, or … */
  token?: string;
  workspace?: string;
  /** … the cluster `ADMIN_TOKEN`: the tool creates its own tenant, workspace and token. */
  adminToken?: string;
  /** Extra `/metrics` URLs (doc services); the gateway's own is always read. */
  metricsUrls?: string[];
  /** How long `coldload` waits for the server to unload idle docs (the doc services' DOC_IDLE_MS). */
  unloadWaitMs: number;
  log?: (line: string) => void;
}

export async function connectRemote(options: RemoteOptions): Promise<Target> {
  const wsBase = options.server.replace(/\/+$/, '');
  if (!/^wss?:\/\//.test(wsBase))
    throw new Error(`--server must be a ws:// or wss:// URL, got ${options.server}`);
  const httpBase = httpBaseOf(wsBase);
  let token: string;
  let workspace: string;
  if (options.adminToken) {
    const p = await provisionWithAdminToken(
      httpBase,
      options.adminToken,
      `lt-${crypto.randomBytes(4).toString('hex')}`,
    );
    token = p.token;
    workspace = p.workspace;
    options.log?.(`created tenant ${p.tenantId}, workspace ${workspace}`);
  } else if (options.token && options.workspace) {
    token = options.token;
    workspace = options.workspace;
  } else {
    throw new Error('a remote run needs --admin-token, or --token with --workspace');
  }
  const run = crypto.randomBytes(3).toString('hex');
  return {
    label: `diaryx-sync /${options.protocol} at ${wsBase}`,
    endpoints: [
      { protocol: options.protocol, base: options.protocol === 'yjs' ? `${wsBase}/yjs` : wsBase, token },
    ],
    // Doc names carry a run id so repeated runs in one workspace never share a doc.
    docId: (name) => `body:${workspace}/lt-${run}-${name}.md`,
    processes: [],
    metricsUrls: [`${httpBase}/metrics`, ...(options.metricsUrls ?? [])],
    local: false,
    async unloadDocs() {
      options.log?.(
        `waiting ${Math.round(options.unloadWaitMs / 1000)} s for the server to unload idle docs`,
      );
      await new Promise((r) => setTimeout(r, options.unloadWaitMs));
      return `waited ${Math.round(options.unloadWaitMs / 1000)} s for idle docs to unload (--unload-wait)`;
    },
    async close() {},
  };
}
