/**
 * In-memory {@link CrdtStorage}: for tests, tools and single-process use.
 */
import {
  checkEntries,
  type CrdtStorage,
  type StoredUpdate,
  type UpdateAuthor,
  type UpdateBatchEntry,
  type UpdateMeta,
} from './crdt-storage';
import { mergeIntoState } from './merge';

interface Snapshot {
  state: Uint8Array;
  lastUpdateId: number;
}

/** A {@link CrdtStorage} held in process memory. Same contract as `PostgresStorage`. */
export class MemoryStorage implements CrdtStorage {
  private nextId = 1;
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly updates = new Map<string, StoredUpdate[]>();

  /** {@inheritDoc CrdtStorage.loadDoc} */
  async loadDoc(doc: string): Promise<Uint8Array | null> {
    return this.loadDocSync(doc);
  }

  /** {@inheritDoc CrdtStorage.loadDocSync} */
  loadDocSync(doc: string): Uint8Array | null {
    const snap = this.snapshots.get(doc);
    const rows = this.updates.get(doc) ?? [];
    const parts = snap ? [snap.state, ...rows.map((r) => r.data)] : rows.map((r) => r.data);
    return mergeIntoState(parts);
  }

  /** {@inheritDoc CrdtStorage.saveDoc} */
  async saveDoc(doc: string, state: Uint8Array): Promise<void> {
    this.snapshots.set(doc, { state: copy(state), lastUpdateId: this.latestId(doc) });
  }

  /** {@inheritDoc CrdtStorage.deleteDoc} */
  async deleteDoc(doc: string): Promise<void> {
    this.snapshots.delete(doc);
    this.updates.delete(doc);
  }

  /** {@inheritDoc CrdtStorage.listDocs} */
  async listDocs(prefix = ''): Promise<string[]> {
    const names = new Set<string>(this.snapshots.keys());
    for (const [doc, rows] of this.updates) if (rows.length > 0) names.add(doc);
    return [...names].filter((d) => d.startsWith(prefix)).sort();
  }

  /** {@inheritDoc CrdtStorage.appendUpdate} */
  async appendUpdate(doc: string, data: Uint8Array, meta: UpdateMeta = {}): Promise<number> {
    return this.append(doc, data, meta);
  }

  /** {@inheritDoc CrdtStorage.batchAppendUpdates} */
  async batchAppendUpdates(entries: UpdateBatchEntry[]): Promise<number[]> {
    checkEntries(entries);
    for (const e of entries) checkEntry(e.doc, e.data);
    return entries.map((e) => this.append(e.doc, e.data, e.meta ?? {}));
  }

  /** {@inheritDoc CrdtStorage.getUpdatesSince} */
  async getUpdatesSince(doc: string, sinceId: number): Promise<StoredUpdate[]> {
    return (this.updates.get(doc) ?? []).filter((r) => r.id > sinceId).map(clone);
  }

  /** {@inheritDoc CrdtStorage.getAllUpdates} */
  async getAllUpdates(doc: string): Promise<StoredUpdate[]> {
    return (this.updates.get(doc) ?? []).map(clone);
  }

  /** {@inheritDoc CrdtStorage.getStateAt} */
  async getStateAt(doc: string, updateId: number): Promise<Uint8Array | null> {
    const snap = this.snapshots.get(doc);
    const rows = (this.updates.get(doc) ?? []).filter((r) => r.id <= updateId).map((r) => r.data);
    return mergeIntoState(snap ? [snap.state, ...rows] : rows);
  }

  /** {@inheritDoc CrdtStorage.compact} */
  async compact(doc: string, keepUpdates: number, throughId = Infinity): Promise<void> {
    const keep = Math.max(0, Math.floor(keepUpdates));
    const rows = this.updates.get(doc) ?? [];
    const foldCount = rows.slice(0, Math.max(0, rows.length - keep)).filter((r) => r.id <= throughId).length;
    if (foldCount <= 0) return;
    const folded = rows.slice(0, foldCount);
    const snap = this.snapshots.get(doc);
    const parts = snap ? [snap.state, ...folded.map((r) => r.data)] : folded.map((r) => r.data);
    const state = mergeIntoState(parts);
    if (!state) return;
    const lastFolded = folded[folded.length - 1].id;
    this.snapshots.set(doc, { state, lastUpdateId: Math.max(lastFolded, snap?.lastUpdateId ?? 0) });
    this.updates.set(doc, rows.slice(foldCount));
  }

  /** {@inheritDoc CrdtStorage.getLatestUpdateId} */
  async getLatestUpdateId(doc: string): Promise<number> {
    return this.latestId(doc);
  }

  /** {@inheritDoc CrdtStorage.getCompactedThrough} */
  async getCompactedThrough(doc: string): Promise<number> {
    return this.snapshots.get(doc)?.lastUpdateId ?? 0;
  }

  /** {@inheritDoc CrdtStorage.getAuthorsSince} */
  async getAuthorsSince(docs: readonly string[], sinceMs: number): Promise<UpdateAuthor[]> {
    const byUser = new Map<string, { devices: Set<string>; updates: number }>();
    for (const doc of docs) {
      for (const u of this.updates.get(doc) ?? []) {
        if (u.userId === null || u.timestamp <= sinceMs) continue;
        const a = byUser.get(u.userId) ?? { devices: new Set<string>(), updates: 0 };
        if (u.deviceName !== null) a.devices.add(u.deviceName);
        a.updates++;
        byUser.set(u.userId, a);
      }
    }
    return [...byUser]
      .map(([userId, a]) => ({ userId, deviceNames: [...a.devices].sort(), updates: a.updates }))
      .sort((x, y) => y.updates - x.updates || (x.userId < y.userId ? -1 : 1));
  }

  /** {@inheritDoc CrdtStorage.getUpdateCount} */
  async getUpdateCount(doc: string): Promise<number> {
    return this.updates.get(doc)?.length ?? 0;
  }

  /** {@inheritDoc CrdtStorage.renameDoc} */
  async renameDoc(from: string, to: string): Promise<void> {
    if (from === to) return;
    const snap = this.snapshots.get(from);
    const rows = this.updates.get(from);
    if (!snap && (!rows || rows.length === 0)) return;
    this.snapshots.delete(to);
    this.updates.delete(to);
    if (snap) this.snapshots.set(to, snap);
    if (rows)
      this.updates.set(
        to,
        rows.map((r) => ({ ...r, doc: to })),
      );
    this.snapshots.delete(from);
    this.updates.delete(from);
  }

  /** {@inheritDoc CrdtStorage.clearUpdates} */
  async clearUpdates(doc: string): Promise<void> {
    this.updates.delete(doc);
  }

  /** {@inheritDoc CrdtStorage.dropUpdates} */
  async dropUpdates(doc: string, ids: readonly number[]): Promise<void> {
    const drop = new Set(ids);
    const rows = this.updates.get(doc);
    if (rows)
      this.updates.set(
        doc,
        rows.filter((r) => !drop.has(r.id)),
      );
  }

  private latestId(doc: string): number {
    const rows = this.updates.get(doc);
    const last = rows && rows.length > 0 ? rows[rows.length - 1].id : 0;
    return Math.max(last, this.snapshots.get(doc)?.lastUpdateId ?? 0);
  }

  private append(doc: string, data: Uint8Array, meta: UpdateMeta): number {
    checkEntry(doc, data);
    const id = this.nextId++;
    const row: StoredUpdate = {
      id,
      doc,
      data: copy(data),
      timestamp: Date.now(),
      origin: meta.origin ?? 'local',
      deviceId: meta.deviceId ?? null,
      deviceName: meta.deviceName ?? null,
      userId: meta.userId ?? null,
    };
    const rows = this.updates.get(doc);
    if (rows) rows.push(row);
    else this.updates.set(doc, [row]);
    return id;
  }
}

function checkEntry(doc: string, data: Uint8Array): void {
  if (typeof doc !== 'string' || doc === '') throw new TypeError('doc id must be a non-empty string');
  if (!(data instanceof Uint8Array)) throw new TypeError('update data must be a Uint8Array');
}

function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}

function clone(r: StoredUpdate): StoredUpdate {
  return { ...r, data: copy(r.data) };
}
