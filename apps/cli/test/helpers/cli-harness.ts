import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as Y from 'yjs';
import { runCli, LocalWorkspace, type CliIo, type ClientTuning, type StartHooks } from '@diaryx-sync/cli';
import type * as testing from '@diaryx-sync/protocol/testing';

/** Output of one in-process CLI run. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `diaryx-sync` in-process. */
export async function cli(
  args: string[],
  extra: { signal?: AbortSignal; tuning?: ClientTuning & StartHooks; env?: Record<string, string> } = {},
): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: extra.env ?? {},
    signal: extra.signal,
  };
  const code = await runCli(args, io, extra.tuning);
  return { code, out, err };
}

/** A fresh temp folder, removed by {@link cleanupTempDirs}. */
const dirs: string[] = [];
export function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'diaryx-cli-'));
  dirs.push(d);
  return d;
}
export function cleanupTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Seeds the test server with markdown files, through the same crdt model the CLI uses. */
export function seedServerFiles(
  server: testing.TestSyncServer,
  workspaceId: string,
  files: { path: string; content: string }[],
): void {
  const local = new LocalWorkspace(workspaceId);
  local.importFiles(files, { now: 1700000000000 });
  Y.applyUpdate(server.core.doc(`workspace:${workspaceId}`), local.workspace.encodeStateAsUpdate());
  for (const p of local.livePaths()) {
    Y.applyUpdate(server.core.doc(`body:${workspaceId}/${p}`), local.bodies.get(p)!.encodeStateAsUpdate());
  }
}

/** Server-side body text of a file. */
export function serverBody(
  server: testing.TestSyncServer,
  workspaceId: string,
  p: string,
): string | undefined {
  return server.core.docs.get(`body:${workspaceId}/${p}`)?.getText('body').toString();
}

/** Server-side metadata of a file. */
export function serverMeta(
  server: testing.TestSyncServer,
  workspaceId: string,
  p: string,
): Record<string, unknown> | undefined {
  const json = server.core.doc(`workspace:${workspaceId}`).getMap<string>('files').get(p);
  return json === undefined ? undefined : (JSON.parse(json) as Record<string, unknown>);
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
