/**
 * `BodyDoc`: one file's content doc: root `Y.Text` `body` (markdown without frontmatter) and
 * root `Y.Map` `frontmatter`.
 */
import * as Y from 'yjs';
import { LOAD_ORIGIN, LOCAL_ORIGIN, REMOTE_ORIGIN, type UpdateListener } from './origins';
import { computeSplice } from './text-diff';

/** Name of the body text. */
export const BODY_TEXT_NAME = 'body';
/** Name of the frontmatter map. */
export const FRONTMATTER_MAP_NAME = 'frontmatter';

/** Callback receiving the local updates of a body doc, with the doc's current name. */
export type BodySyncCallback = (name: string, update: Uint8Array) => void;

/** A body document. Offsets are UTF-16 code units (JavaScript string indices). */
export class BodyDoc {
  /** The underlying Yjs document. */
  readonly doc: Y.Doc;
  /** The body text. */
  readonly body: Y.Text;
  /** The frontmatter map. */
  readonly frontmatter: Y.Map<unknown>;
  private currentName: string;
  private applyingRemote = false;
  private syncCallback: BodySyncCallback | null = null;

  /**
   * Wraps `doc` (default: a new `Y.Doc`) under `name` (a path or a body doc id; default `''`).
   * `new BodyDoc(ydoc)` wraps an existing doc without a name.
   *
   * @throws TypeError when `doc` is given but is not a `Y.Doc`.
   */
  constructor(name?: string, doc?: Y.Doc);
  /** Wraps an existing `Y.Doc` under the name `''`. */
  constructor(doc: Y.Doc);
  constructor(nameOrDoc: string | Y.Doc = '', maybeDoc: Y.Doc = new Y.Doc()) {
    const name = typeof nameOrDoc === 'string' ? nameOrDoc : '';
    const doc = typeof nameOrDoc === 'string' ? maybeDoc : nameOrDoc;
    if (typeof (doc as Partial<Y.Doc> | null)?.getText !== 'function') {
      throw new TypeError('BodyDoc expects a Y.Doc (or nothing) as second argument');
    }
    this.currentName = name;
    this.doc = doc;
    this.body = doc.getText(BODY_TEXT_NAME);
    this.frontmatter = doc.getMap<unknown>(FRONTMATTER_MAP_NAME);
  }

  /** Creates a body doc from a full-state update (e.g. `storage.loadDoc`). */
  static fromUpdate(name: string, state: Uint8Array | null): BodyDoc {
    const d = new BodyDoc(name);
    if (state) Y.applyUpdate(d.doc, state, LOAD_ORIGIN);
    return d;
  }

  /** The doc's current name (changes on rename). */
  get name(): string {
    return this.currentName;
  }

  /** Renames the doc; sync callbacks use the new name from now on. */
  setName(name: string): void {
    this.currentName = name;
  }

  /** The body text. */
  getBody(): string {
    return this.body.toString();
  }

  /**
   * Replaces the body with `text` through one minimal delete + insert (common prefix and suffix
   * kept, surrogate pairs never split), so concurrent edits elsewhere survive.
   *
   * @throws TypeError when `text` is not a string (the body is left unchanged).
   */
  setBody(text: string): void {
    if (typeof text !== 'string') throw new TypeError('setBody expects a string');
    const splice = computeSplice(this.getBody(), text);
    if (!splice) return;
    this.doc.transact(() => {
      if (splice.deleteCount > 0) this.body.delete(splice.index, splice.deleteCount);
      if (splice.insert.length > 0) this.body.insert(splice.index, splice.insert);
    }, LOCAL_ORIGIN);
  }

  /**
   * Inserts `text` at `index` (clamped to the body length).
   * @throws RangeError for a negative or non-integer index.
   */
  insertAt(index: number, text: string): void {
    checkIndex(index);
    if (text.length === 0) return;
    this.doc.transact(() => this.body.insert(Math.min(index, this.body.length), text), LOCAL_ORIGIN);
  }

  /**
   * Deletes `length` code units from `index` (clamped to the body).
   * @throws RangeError for negative or non-integer arguments.
   */
  deleteRange(index: number, length: number): void {
    checkIndex(index);
    checkIndex(length);
    const start = Math.min(index, this.body.length);
    const count = Math.min(length, this.body.length - start);
    if (count === 0) return;
    this.doc.transact(() => this.body.delete(start, count), LOCAL_ORIGIN);
  }

  /** Sets a frontmatter value (any JSON value). */
  setFrontmatter(key: string, value: unknown): void {
    this.doc.transact(() => this.frontmatter.set(key, value), LOCAL_ORIGIN);
  }

  /** A frontmatter value, or undefined. */
  getFrontmatter(key: string): unknown {
    return this.frontmatter.get(key);
  }

  /** Removes a frontmatter key. */
  removeFrontmatter(key: string): void {
    if (!this.frontmatter.has(key)) return;
    this.doc.transact(() => this.frontmatter.delete(key), LOCAL_ORIGIN);
  }

  /** All frontmatter as a plain object. */
  getAllFrontmatter(): Record<string, unknown> {
    return this.frontmatter.toJSON() as Record<string, unknown>;
  }

  /**
   * Applies a remote update; it is never echoed to the sync callback.
   * @throws Error when the update is malformed.
   */
  applyUpdate(update: Uint8Array, origin: unknown = REMOTE_ORIGIN): void {
    this.applyingRemote = true;
    try {
      Y.applyUpdate(this.doc, update, origin);
    } finally {
      this.applyingRemote = false;
    }
  }

  /** The state vector. */
  getSyncState(): Uint8Array {
    return Y.encodeStateVector(this.doc);
  }

  /** What a peer with `stateVector` lacks (full state when omitted). */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, stateVector);
  }

  /**
   * Registers the sync callback, once per doc: later calls are ignored (returns false). It
   * receives local updates only, with the doc's current name.
   */
  setSyncCallback(callback: BodySyncCallback): boolean {
    if (this.syncCallback) return false;
    this.syncCallback = callback;
    this.onUpdate((update, info) => {
      if (info.local) callback(this.currentName, update);
    });
    return true;
  }

  /** True once a sync callback is registered. */
  hasSyncCallback(): boolean {
    return this.syncCallback !== null;
  }

  /** Observes every update; `info.local` is false for remote and loaded updates. */
  onUpdate(listener: UpdateListener): () => void {
    const handler = (update: Uint8Array, origin: unknown): void => {
      const local = !this.applyingRemote && origin !== REMOTE_ORIGIN && origin !== LOAD_ORIGIN;
      listener(update, { origin, local });
    };
    this.doc.on('update', handler);
    return () => this.doc.off('update', handler);
  }

  /** Frees the Yjs document. */
  destroy(): void {
    this.doc.destroy();
  }
}

function checkIndex(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`expected a non-negative integer, got ${n}`);
}
