import { isDocIdKey, type BodyDocManager, type WorkspaceCrdt } from '@diaryx-sync/crdt';
import type { FileChangeSet, SessionDocuments } from './documents';

/**
 * {@link SessionDocuments} over the `@diaryx-sync/crdt` model: a path-mode (or doc-id mode)
 * {@link WorkspaceCrdt} and a {@link BodyDocManager} keyed by body name (the path of a path-keyed
 * entry, the UUID key of a doc-id entry). Remote updates are applied with the crdt's
 * remote origin, so update observers (`onUpdate` with `info.local`, `setSyncCallback`) never echo
 * them back.
 */
export function createCrdtSessionDocuments(
  workspace: WorkspaceCrdt,
  bodies: BodyDocManager,
): SessionDocuments {
  return {
    workspace: {
      getSyncState: () => workspace.getSyncState(),
      encodeStateAsUpdate: (sv) => workspace.encodeStateAsUpdate(sv),
      applyRemoteUpdate: (update): FileChangeSet => workspace.applyUpdate(update),
      livePaths: () => workspace.listFiles().map((f) => f.path),
      bodyNames: () =>
        new Map(workspace.listFiles().map((f) => [f.path, isDocIdKey(f.key) ? f.key : f.path] as const)),
      pathOfBody: (name) => (isDocIdKey(name) ? workspace.getPath(name) : name),
    },
    bodies: {
      get(path) {
        const body = bodies.getOrCreate(path);
        return {
          getSyncState: () => body.getSyncState(),
          encodeStateAsUpdate: (sv) => body.encodeStateAsUpdate(sv),
          applyRemoteUpdate(update) {
            let changed = false;
            const onUpdate = (): void => {
              changed = true;
            };
            body.doc.on('update', onUpdate);
            try {
              body.applyUpdate(update);
            } finally {
              body.doc.off('update', onUpdate);
            }
            return changed;
          },
        };
      },
      has: (path) => bodies.hasDoc(path),
      rename(from, to) {
        // Without storage the in-memory move is synchronous; storage rows follow asynchronously.
        void bodies.renameDoc(from, to);
      },
      release(path) {
        // Pending storage writes still complete; the stored rows are kept.
        bodies.removeDoc(path);
      },
    },
  };
}
