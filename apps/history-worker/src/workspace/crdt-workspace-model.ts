/**
 * {@link WorkspaceModel} on `@diaryx-sync/crdt`: loads the workspace and body docs from
 * PostgreSQL, materializes with `materializeWorkspace`, validates with `validateWorkspace`, and
 * plans forward updates with `WorkspaceCrdt`/`BodyDoc` so a restore is an ordinary edit.
 */
import { randomUUID } from 'node:crypto';
import {
  BodyDoc,
  bodyDocId,
  bodyDocIdPrefix,
  collectUpdate,
  docIdFilename,
  isDocIdKey,
  findOrphanBodies,
  parseMarkdownFiles,
  planRepairs,
  renderMarkdown,
  splitFrontmatter,
  readDocState,
  serializeFileMetadata,
  type BodyInfo,
  workspaceDocId,
  WorkspaceCrdt,
  type CrdtStorage,
  type FileMetadata,
} from '@diaryx-sync/crdt';
import { materializeStates } from '@diaryx-sync/git-store';
import { decideHealth, validateLoaded } from './crdt-validation';
import type { LoadedWorkspace, UnreadableDoc, WorkspaceModel } from './workspace-model';

const text = (c: Uint8Array | string) => (typeof c === 'string' ? c : Buffer.from(c).toString('utf8'));

/** Path of each body doc of the workspace (doc id → path). */
export function bodyPaths(ws: LoadedWorkspace): Map<string, string> {
  const prefix = bodyDocIdPrefix(ws.workspace);
  const out = new Map<string, string>();
  for (const docId of ws.states.keys())
    if (docId.startsWith(prefix)) out.set(docId, docId.slice(prefix.length));
  return out;
}

/** The workspace doc of a loaded workspace. */
export function workspaceOf(ws: LoadedWorkspace): WorkspaceCrdt {
  return WorkspaceCrdt.fromUpdate(ws.states.get(workspaceDocId(ws.workspace)) ?? null);
}

/** Body texts by path. */
export function bodiesOf(ws: LoadedWorkspace): Map<string, string> {
  const out = new Map<string, string>();
  for (const [docId, path] of bodyPaths(ws))
    out.set(path, BodyDoc.fromUpdate(path, ws.states.get(docId) ?? null).getBody());
  return out;
}

/** Builds the model over per-tenant storages. */
export function createCrdtWorkspaceModel(storageFor: (tenant: string) => CrdtStorage): WorkspaceModel {
  return {
    async load(tenant, workspace) {
      // Like git-store's loadWorkspaceStates, but a doc whose snapshot or log rows do not decode is
      // read as far as it can be and reported (a rebuild is due), instead of failing the job.
      const storage = storageFor(tenant);
      const states = new Map<string, Uint8Array>();
      const unreadable: UnreadableDoc[] = [];
      const wsDoc = workspaceDocId(workspace);
      const prefix = bodyDocIdPrefix(workspace);
      for (const docId of await storage.listDocs()) {
        if (docId !== wsDoc && !docId.startsWith(prefix)) continue;
        const { state, damage } = await readDocState(storage, docId);
        if (state) states.set(docId, state);
        if (damage) unreadable.push({ docId, ...damage });
      }
      return { tenant, workspace, states, unreadable };
    },

    materialize(ws) {
      return materializeStates(ws.workspace, ws.states);
    },

    validate: validateLoaded,

    decide: decideHealth,

    async planRepairs(ws, now, orphanGraceMs) {
      const storage = storageFor(ws.tenant);
      const workspace = workspaceOf(ws);
      const paths = bodyPaths(ws);
      const docIdOf = new Map([...paths].map(([docId, path]) => [path, docId] as const));
      // An orphan's age runs from its oldest stored update (never earlier than its first update,
      // so an orphan is never adopted early); a log compacted away entirely means an old doc.
      const firstUpdateAt = new Map<string, number | null>();
      for (const orphan of findOrphanBodies(workspace, paths.values())) {
        const rows = await storage.getUpdatesSince(docIdOf.get(orphan)!, 0);
        firstUpdateAt.set(orphan, rows.length > 0 ? rows[0].timestamp : null);
      }
      // texts are decoded only when a repair needs them (an adopted orphan, a shared duplicate body)
      const bodies = new Map<string, BodyInfo>();
      for (const [docId, path] of paths) {
        bodies.set(path, {
          get text() {
            return BodyDoc.fromUpdate(path, ws.states.get(docId) ?? null).getBody();
          },
          firstUpdateAt: firstUpdateAt.get(path) ?? null,
        });
      }
      const plan = planRepairs(workspace, bodies, now, { orphanGraceMs });
      const updates: [string, Uint8Array][] = [...plan.bodyUpdates].map(([path, u]) => [
        bodyDocId(ws.workspace, path),
        u,
      ]);
      if (plan.workspaceUpdate) updates.push([workspaceDocId(ws.workspace), plan.workspaceUpdate]);
      return {
        repairs: plan.repairs.map((r) => ({ ...r })),
        updates,
        pendingOrphans: plan.pendingOrphans,
        remaining: plan.remaining.map((i) => ({ kind: i.kind, file: i.file, message: i.message })),
      };
    },

    rebuildTarget(ws, commitFiles, lostBase) {
      const target = new Map(this.materialize(ws).map((f) => [f.path, f] as const));
      const keyOf = new Map(
        workspaceOf(ws)
          .listFiles({ includeDeleted: true })
          .map((f) => [f.path, f.key] as const),
      );
      // a doc-id entry's body may be named by its key (docs/protocol.md#doc-ids)
      const baseLost = (path: string): boolean => {
        const key = keyOf.get(path) ?? path;
        return (
          lostBase.has(bodyDocId(ws.workspace, path)) ||
          (isDocIdKey(key) && lostBase.has(bodyDocId(ws.workspace, key)))
        );
      };
      for (const f of commitFiles) {
        const current = target.get(f.path);
        if (!keyOf.has(f.path)) target.set(f.path, f);
        else if (current && baseLost(f.path)) {
          try {
            const committed = splitFrontmatter(text(f.content)).body;
            const read = splitFrontmatter(text(current.content));
            if (!read.body.includes(committed))
              target.set(f.path, {
                path: f.path,
                content: renderMarkdown(read.frontmatter, committed + read.body),
              });
          } catch {
            // invalid frontmatter in the commit: keep what was read
          }
        }
      }
      return [...target.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    },

    planRestore(ws, files, options = {}) {
      const plan = new Map<string, Uint8Array>();
      const target = parseMarkdownFiles(files.map((f) => ({ path: f.path, content: text(f.content) })));
      const targetContent = new Map(files.map((f) => [f.path, text(f.content)] as const));
      const current = new Map(this.materialize(ws).map((f) => [f.path, f.content] as const));
      const workspace = workspaceOf(ws);
      const live = workspace.listFiles();
      const allEntries = workspace.listFiles({ includeDeleted: true });
      const docIdMode = allEntries.some((f) => isDocIdKey(f.key));
      // path → key (live entries win over tombstones of the same path)
      const keyOf = new Map<string, string>();
      for (const f of allEntries) if (!keyOf.has(f.path) || !f.metadata.deleted) keyOf.set(f.path, f.key);
      for (const path of target.files.keys()) {
        if (!keyOf.has(path)) keyOf.set(path, docIdMode ? randomUUID() : path);
      }
      const link = (p: string | null) => (p === null ? null : docIdMode ? (keyOf.get(p) ?? p) : p);

      const wsUpdate = collectUpdate(workspace.doc, () => {
        workspace.doc.transact(() => {
          // 1. tombstone live files the target does not have, duplicates of a target path, and
          //    live entries without a resolvable path (cycles, broken doc-id chains)
          for (const f of options.addOnly ? [] : live) {
            if (!target.files.has(f.path) || keyOf.get(f.path) !== f.key) workspace.deleteFile(f.key);
          }
          const listed = new Set(live.map((f) => f.key));
          for (const [key, meta] of options.addOnly ? [] : workspace.entries()) {
            if (!meta.deleted && !listed.has(key)) workspace.deleteFile(key);
          }
          // 1b. body docs with no workspace entry at all (orphans) get a tombstone entry
          for (const path of options.addOnly ? [] : bodyPaths(ws).values()) {
            if (!keyOf.has(path) && !target.files.has(path)) {
              workspace.setFile(path, {
                filename: path.split('/').pop() ?? path,
                deleted: true,
                modified_at: Date.now(),
              });
            }
          }
          // 2. rewrite metadata of files whose content differs
          for (const [path, meta] of target.files) {
            if (current.get(path) === targetContent.get(path)) continue;
            const key = keyOf.get(path)!;
            const next: FileMetadata = {
              ...meta,
              // doc-id mode: the path comes from walking part_of, so filename is relative to the parent
              filename: docIdMode ? docIdFilename(path, meta.part_of) : meta.filename,
              part_of: link(meta.part_of),
              contents: meta.contents === null ? null : meta.contents.map((c) => link(c) ?? c),
            };
            const existing = workspace.getFile(key);
            if (
              existing &&
              !existing.deleted &&
              serializeFileMetadata(existing) === serializeFileMetadata(next)
            )
              continue;
            workspace.setFile(key, next);
          }
        });
      });
      if (wsUpdate) plan.set(workspaceDocId(ws.workspace), wsUpdate);

      // 3. bodies: a doc-id entry's body is named by its key (docs/protocol.md#doc-ids), unless a
      //    body is stored under its path (read first, as materializeWorkspace does)
      for (const [path, body] of target.bodies) {
        const key = keyOf.get(path) ?? path;
        const byPath = bodyDocId(ws.workspace, path);
        const docId = isDocIdKey(key) && !ws.states.has(byPath) ? bodyDocId(ws.workspace, key) : byPath;
        const state = ws.states.get(docId) ?? null;
        const doc = BodyDoc.fromUpdate(path, state);
        if (state !== null && doc.getBody() === body) continue;
        const update = collectUpdate(doc.doc, () => {
          if (body === '' && state === null) {
            // An empty body must still exist as a doc (validation: missing_body): record an
            // insert+delete so the doc gets a real, persisted update.
            doc.doc.transact(() => {
              doc.insertAt(0, ' ');
              doc.deleteRange(0, 1);
            });
          } else doc.setBody(body);
        });
        if (update) plan.set(docId, update);
      }
      return plan;
    },
  };
}
