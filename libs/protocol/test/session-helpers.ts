import * as Y from 'yjs';
import { SyncSession, createYDocSessionDocuments, type YDocSessionDocuments } from '../src/client';
import { SessionPipe, TestSyncServerCore, type PipeFaults } from '../src/client/testing';

export const WS = 'ws_test';

/** A file entry as the workspace doc stores it (JSON string, snake_case). */
export function fileJson(filename: string, extra: Partial<Record<string, unknown>> = {}): string {
  return JSON.stringify({
    filename,
    title: filename.replace(/\.md$/, ''),
    part_of: null,
    contents: null,
    attachments: [],
    deleted: false,
    audience: null,
    description: null,
    extra: {},
    modified_at: 1700000000000,
    ...extra,
  });
}

/** Writes files (path → body) into a workspace Y.Doc and body docs. */
export function seed(workspace: Y.Doc, body: (path: string) => Y.Doc, files: Record<string, string>): void {
  workspace.transact(() => {
    const map = workspace.getMap<string>('files');
    for (const path of Object.keys(files)) map.set(path, fileJson(path.split('/').pop() ?? path));
  });
  for (const [path, text] of Object.entries(files)) body(path).getText('body').insert(0, text);
}

/** Seeds the server core directly. */
export function seedServer(core: TestSyncServerCore, files: Record<string, string>): void {
  seed(core.doc(`workspace:${WS}`), (p) => core.doc(`body:${WS}/${p}`), files);
}

export interface Client {
  readonly docs: YDocSessionDocuments;
  readonly session: SyncSession;
  readonly pipe: SessionPipe;
}

export function makeClient(core: TestSyncServerCore, faults: PipeFaults, fallbackMs = 3000): Client {
  const docs = createYDocSessionDocuments();
  const holder: { pipe?: SessionPipe } = {};
  const session = new SyncSession({
    workspaceId: WS,
    documents: docs,
    clock: () => holder.pipe?.now ?? 0,
    syncCompleteFallbackMs: fallbackMs,
    retryAfterMs: 1500,
  });
  const pipe = new SessionPipe(session, core, faults);
  holder.pipe = pipe;
  return { docs, session, pipe };
}

export function bodyText(doc: Y.Doc | undefined): string | undefined {
  return doc?.getText('body').toString();
}

/** Live files of a files map with their JSON. */
export function liveEntries(doc: Y.Doc): Record<string, string> {
  const out: Record<string, string> = {};
  doc.getMap<string>('files').forEach((json, key) => {
    if ((JSON.parse(json) as { deleted?: boolean }).deleted !== true) out[key] = json;
  });
  return out;
}

/** Asserts the client and the server hold the same workspace and bodies. */
export function expectConverged(core: TestSyncServerCore, client: Client): void {
  const server = liveEntries(core.doc(`workspace:${WS}`));
  expect(liveEntries(client.docs.workspaceDoc)).toEqual(server);
  for (const path of Object.keys(server)) {
    expect([path, bodyText(client.docs.bodyDocs.get(path))]).toEqual([
      path,
      bodyText(core.docs.get(`body:${WS}/${path}`)),
    ]);
  }
}
