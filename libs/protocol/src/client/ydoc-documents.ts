import * as Y from 'yjs';
import { REMOTE_ORIGIN, tryNormalizePath } from '@diaryx-sync/crdt';
import type {
  FileChangeSet,
  SessionBodyDoc,
  SessionBodyStore,
  SessionDocuments,
  SessionWorkspaceDoc,
} from './documents';

/** Transaction origin of updates that came from the server (the one of `@diaryx-sync/crdt`). */
export { REMOTE_ORIGIN };

interface FileEntry {
  readonly json: string;
  readonly live: boolean;
  readonly parent: string | null;
  readonly title: string | null;
}

function readEntry(json: unknown): FileEntry | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const v = JSON.parse(json) as Record<string, unknown>;
    return {
      json,
      live: v.deleted !== true,
      parent: typeof v.part_of === 'string' ? v.part_of : null,
      title: typeof v.title === 'string' ? v.title : null,
    };
  } catch {
    return undefined;
  }
}

function snapshot(files: Y.Map<unknown>): Map<string, FileEntry> {
  const out = new Map<string, FileEntry>();
  files.forEach((value, key) => {
    const path = tryNormalizePath(key);
    const entry = readEntry(value);
    if (path === null || entry === undefined) return;
    const prev = out.get(path);
    if (prev === undefined || (!prev.live && entry.live)) out.set(path, entry);
  });
  return out;
}

/** Computes created/deleted/restored/modified/renamed between two snapshots of the files map. */
export function diffFileSnapshots(
  before: Map<string, FileEntry>,
  after: Map<string, FileEntry>,
): FileChangeSet {
  const created: string[] = [];
  const deleted: string[] = [];
  const restored: string[] = [];
  const modified: string[] = [];
  for (const [path, now] of after) {
    const was = before.get(path);
    if (was === undefined) {
      if (now.live) created.push(path);
    } else if (was.live && !now.live) deleted.push(path);
    else if (!was.live && now.live) restored.push(path);
    else if (now.live && was.json !== now.json) modified.push(path);
  }
  for (const [path, was] of before) if (was.live && !after.has(path)) deleted.push(path);
  const renamed: { from: string; to: string }[] = [];
  const pairUp = (match: (a: FileEntry, b: FileEntry) => boolean): void => {
    for (const from of [...deleted]) {
      const a = before.get(from);
      const idx = created.findIndex((to) => {
        const b = after.get(to);
        return a !== undefined && b !== undefined && match(a, b);
      });
      if (idx >= 0) {
        renamed.push({ from, to: created[idx] });
        created.splice(idx, 1);
        deleted.splice(deleted.indexOf(from), 1);
      }
    }
  };
  pairUp((a, b) => a.parent === b.parent && a.title !== null && a.title === b.title);
  if (deleted.length === 1 && created.length === 1) pairUp((a, b) => a.parent === b.parent);
  return { created, deleted, restored, modified, renamed };
}

class YDocWorkspace implements SessionWorkspaceDoc {
  constructor(readonly doc: Y.Doc) {}
  private get files(): Y.Map<unknown> {
    return this.doc.getMap('files');
  }
  getSyncState(): Uint8Array {
    return Y.encodeStateVector(this.doc);
  }
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, stateVector);
  }
  applyRemoteUpdate(update: Uint8Array): FileChangeSet {
    const before = snapshot(this.files);
    Y.applyUpdate(this.doc, update, REMOTE_ORIGIN);
    return diffFileSnapshots(before, snapshot(this.files));
  }
  livePaths(): string[] {
    return [...snapshot(this.files)].filter(([, e]) => e.live).map(([p]) => p);
  }
  bodyNames(): Map<string, string> {
    return new Map(this.livePaths().map((p) => [p, p] as const));
  }
  pathOfBody(name: string): string {
    return name;
  }
}

class YDocBody implements SessionBodyDoc {
  constructor(readonly doc: Y.Doc) {}
  getSyncState(): Uint8Array {
    return Y.encodeStateVector(this.doc);
  }
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, stateVector);
  }
  applyRemoteUpdate(update: Uint8Array): boolean {
    let changed = false;
    const onUpdate = (): void => {
      changed = true;
    };
    this.doc.on('update', onUpdate);
    try {
      Y.applyUpdate(this.doc, update, REMOTE_ORIGIN);
    } finally {
      this.doc.off('update', onUpdate);
    }
    return changed;
  }
}

/** Plain Y.Doc documents of one workspace (body docs in a `Map` keyed by canonical path). */
export interface YDocSessionDocuments extends SessionDocuments {
  /** The workspace Y.Doc (root map `files`). */
  readonly workspaceDoc: Y.Doc;
  /** Body Y.Docs by canonical path (root text `body`, root map `frontmatter`). */
  readonly bodyDocs: Map<string, Y.Doc>;
}

/** Creates {@link SessionDocuments} over plain Y.Docs following docs/protocol.md#names. */
export function createYDocSessionDocuments(workspaceDoc: Y.Doc = new Y.Doc()): YDocSessionDocuments {
  const bodyDocs = new Map<string, Y.Doc>();
  const bodies: SessionBodyStore = {
    get(path) {
      let doc = bodyDocs.get(path);
      if (doc === undefined) {
        doc = new Y.Doc();
        bodyDocs.set(path, doc);
      }
      return new YDocBody(doc);
    },
    has: (path) => bodyDocs.has(path),
    rename(from, to) {
      const doc = bodyDocs.get(from);
      if (doc === undefined) return;
      bodyDocs.delete(from);
      bodyDocs.set(to, doc);
    },
    release(path) {
      bodyDocs.get(path)?.destroy();
      bodyDocs.delete(path);
    },
  };
  return { workspace: new YDocWorkspace(workspaceDoc), bodies, workspaceDoc, bodyDocs };
}
