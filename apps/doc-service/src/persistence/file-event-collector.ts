/**
 * Collects the file changes of persisted updates for change webhooks (docs/protocol.md#webhooks)
 * and queues them, debounced, as one `webhook-events` job per workspace and window
 * (`HistoryQueues#enqueueFileEvents`); the history worker fans them out to the subscribed hooks.
 *
 * Kept off the hot path: a workspace doc's `files` map is observed (Yjs reports each changed key
 * with its old value, so created/changed/renamed/deleted is a comparison of two JSON values); the
 * changes are held per doc until its updates are persisted, then merged per file into the
 * workspace's window. A body doc's persisted update is `file.changed` for its path. A window closes
 * `debounceMs` after its last change (at most `maxWaitMs` after its first).
 */
import { parseTenantKey, tenantKey, type FileChangeEvent, type FileEventsJobData } from '@diaryx-sync/bus';
import { isDocIdKey, parseFileMetadataJson, tryNormalizePath, WorkspaceCrdt } from '@diaryx-sync/crdt';
import type { Logger } from '@diaryx-sync/runtime';
import type * as Y from 'yjs';
import type { LoadedDoc } from '../docs/loaded-doc';

/** Queues one window of file changes. */
export type EnqueueFileEvents = (data: FileEventsJobData) => Promise<unknown>;

/** Default debounce window per file (`WEBHOOK_DEBOUNCE_MS`). */
export const DEFAULT_FILE_EVENT_DEBOUNCE_MS = 2000;

interface Window {
  changes: Map<string, FileChangeEvent['type']>;
  first: number;
  timer: NodeJS.Timeout;
}

/** See module doc. */
export class FileEventCollector {
  private readonly watched = new WeakSet<LoadedDoc>();
  private readonly unpersisted = new WeakMap<LoadedDoc, FileChangeEvent[]>();
  private readonly windows = new Map<string, Window>();
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly enqueue: EnqueueFileEvents,
    private readonly logger: Logger,
    private readonly debounceMs = DEFAULT_FILE_EVENT_DEBOUNCE_MS,
    private readonly maxWaitMs = 5 * DEFAULT_FILE_EVENT_DEBOUNCE_MS,
  ) {}

  /** Starts observing a workspace doc's files (idempotent; call before its first update is applied). */
  watch(doc: LoadedDoc): void {
    if (doc.parsed.kind !== 'workspace' || this.watched.has(doc)) return;
    this.watched.add(doc);
    const ydoc = doc.sync.doc;
    const files = ydoc.getMap<string>('files');
    let paths: WorkspaceCrdt | undefined;
    const pathOf = (key: string): string | undefined => {
      if (!isDocIdKey(key)) return tryNormalizePath(key) ?? undefined;
      paths ??= new WorkspaceCrdt(ydoc);
      return paths.getPath(key);
    };
    files.observe((event: Y.YMapEvent<string>) => {
      const out = this.unpersisted.get(doc) ?? [];
      for (const [key, change] of event.changes.keys) {
        const type = classify(change.oldValue, files.get(key), isDocIdKey(key));
        const path = type ? pathOf(key) : undefined;
        if (type && path !== undefined) out.push({ type, path });
      }
      if (out.length > 0) this.unpersisted.set(doc, out);
    });
  }

  /** Updates of `doc` were persisted: their file changes join the workspace's window. */
  persisted(doc: LoadedDoc): void {
    const workspace = doc.parsed.workspaceId;
    if (doc.parsed.kind === 'body') {
      this.add(doc.tenant, workspace, [{ type: 'file.changed', path: doc.parsed.path }]);
      return;
    }
    const changes = this.unpersisted.get(doc);
    if (!changes) return;
    this.unpersisted.delete(doc);
    this.add(doc.tenant, workspace, changes);
  }

  /** Queues every open window now and waits for the queueing (shutdown). */
  async flush(): Promise<void> {
    for (const [key, window] of this.windows) {
      clearTimeout(window.timer);
      this.fire(key);
    }
    await Promise.allSettled([...this.inflight]);
  }

  private add(tenant: string, workspace: string, changes: FileChangeEvent[]): void {
    const key = tenantKey(tenant, workspace);
    const now = Date.now();
    let window = this.windows.get(key);
    if (window) clearTimeout(window.timer);
    else window = { changes: new Map(), first: now, timer: undefined as unknown as NodeJS.Timeout };
    for (const change of changes) {
      // A file created in this window stays "created" through later changes.
      const before = window.changes.get(change.path);
      window.changes.set(
        change.path,
        before === 'file.created' && change.type !== 'file.deleted' ? before : change.type,
      );
    }
    const delay = Math.max(0, Math.min(this.debounceMs, window.first + this.maxWaitMs - now));
    window.timer = setTimeout(() => this.fire(key), delay);
    window.timer.unref();
    this.windows.set(key, window);
  }

  private fire(key: string): void {
    const window = this.windows.get(key);
    if (!window) return;
    this.windows.delete(key);
    const { tenant, id: workspace } = parseTenantKey(key);
    const changes = [...window.changes].map(([path, type]) => ({ type, path }));
    const p = this.enqueue({ tenant, workspace, changes }).catch((err: Error) =>
      this.logger.warn({ tenant, workspace, err: err.message }, 'file events not queued'),
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}

/** The event of one `files` map entry going from `oldJson` to `newJson` (undefined: no event). */
export function classify(
  oldJson: unknown,
  newJson: unknown,
  docIdKey: boolean,
): FileChangeEvent['type'] | undefined {
  const before = typeof oldJson === 'string' ? parseFileMetadataJson(oldJson) : null;
  const after = typeof newJson === 'string' ? parseFileMetadataJson(newJson) : null;
  const wasLive = before !== null && !before.deleted;
  const isLive = after !== null && !after.deleted;
  if (!wasLive && isLive) return 'file.created';
  if (wasLive && !isLive) return 'file.deleted';
  if (!wasLive || !isLive) return undefined;
  if (docIdKey && (before.filename !== after.filename || before.part_of !== after.part_of))
    return 'file.renamed';
  return 'file.changed';
}
