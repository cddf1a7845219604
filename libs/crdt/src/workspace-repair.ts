/**
 * Repair in place (docs/self-healing.md): turns validation findings into forward CRDT mutations
 * that change the workspace's STRUCTURE only. Body text is never changed: a repair may create a
 * body doc (an empty body, or a copy of an orphan's text under `lost+found/`), never edit one.
 *
 * Pure and transport-agnostic: {@link planRepairs} works on a copy of the workspace doc and returns
 * Yjs updates; the caller applies them as ordinary updates (through the owning shard), so every
 * connected client converges on the repaired state.
 */
import * as Y from 'yjs';
import { BodyDoc } from './body-doc';
import { createFileMetadata, type FileMetadata } from './file-metadata';
import { baseName, isTempFile, parentDir, tryNormalizePath } from './paths';
import { validateWorkspace, type ValidationIssue, type ValidationIssueKind } from './validation';
import { docIdFilename, isDocIdKey, WorkspaceCrdt } from './workspace-crdt';

/** Default grace period of an orphan body doc before it is adopted (60 s). */
export const DEFAULT_ORPHAN_GRACE_MS = 60_000;

/** Folder that adopted orphan bodies are copied to. */
export const LOST_AND_FOUND_DIR = 'lost+found';

/** What one body doc of the workspace holds, as far as repair needs it. */
export interface BodyInfo {
  /** The body text. */
  text: string;
  /**
   * When the doc's first stored update was written (ms since epoch); `null` when unknown (its
   * log was compacted into the snapshot, so the doc is older than that compaction).
   */
  firstUpdateAt: number | null;
}

/** Kinds of repairs. */
export const RepairKind = {
  /** An orphan body past its grace period: its text is copied to `lost+found/`, the path tombstoned. */
  AdoptOrphan: 'adopt_orphan',
  /** A live file without a body doc gets an empty body. */
  CreateBody: 'create_body',
  /** A file whose parent is missing or deleted is re-attached to the nearest live ancestor or the root. */
  Reattach: 'reattach',
  /** A `contents` entry naming a missing or deleted file is removed. */
  DropChildLink: 'drop_child_link',
  /** Files sharing a path: the newest keeps it, the others move to `name (2).md`, … */
  RenameDuplicate: 'rename_duplicate',
  /** A `part_of` loop is cut at its most recently changed link. */
  BreakCycle: 'break_cycle',
  /**
   * Doc-id mode: a live file without a body doc whose name matches an orphan body doc takes that
   * doc back (its `filename` is set so its path is the orphan's path again), e.g. after its parent
   * chain broke and was re-attached.
   */
  RelinkBody: 'relink_body',
} as const;

/** Kinds of repairs. */
export type RepairKind = (typeof RepairKind)[keyof typeof RepairKind];

/** One repair: what was done, to which files, and why. */
export interface Repair {
  kind: RepairKind;
  /** The validation finding that called for it. */
  issue: ValidationIssueKind;
  /** Files concerned (paths; a key when a file has no path), the repaired one first. */
  files: string[];
  /** Human-readable description. */
  message: string;
}

/** Options of {@link planRepairs}. */
export interface RepairOptions {
  /** Orphan bodies younger than this are left alone (default {@link DEFAULT_ORPHAN_GRACE_MS}). */
  orphanGraceMs?: number;
  /** Upper bound of validate → repair rounds (default 8). */
  maxPasses?: number;
}

/** Result of {@link planRepairs}. */
export interface RepairPlan {
  /** The repairs, in the order they were made. */
  repairs: Repair[];
  /** Forward update of the workspace doc, `null` when nothing changed. */
  workspaceUpdate: Uint8Array | null;
  /** New body docs: body path → update creating it. Apply these before the workspace update. */
  bodyUpdates: Map<string, Uint8Array>;
  /** Orphan body paths still within their grace period (not an error yet, not committed). */
  pendingOrphans: string[];
  /** Findings left after the repairs (young orphans excluded): non-empty means "alert". */
  remaining: ValidationIssue[];
}

/**
 * The body paths `validateWorkspace` should see: bodies of tombstoned files are history, not
 * orphans (deleting a file keeps its body doc); bodies of temp files (`.tmp`, `~`, …) are not part
 * of the workspace, like the temp files themselves.
 */
export function checkedBodyPaths(workspace: WorkspaceCrdt, bodyPaths: Iterable<string>): string[] {
  return checkedAgainst(entryNames(workspace), bodyPaths);
}

/** Body paths with no live file (orphans), bodies of tombstoned files excluded. */
export function findOrphanBodies(workspace: WorkspaceCrdt, bodyPaths: Iterable<string>): string[] {
  const names = entryNames(workspace);
  return checkedAgainst(names, bodyPaths).filter((p) => !names.live.has(p));
}

/** Keys and paths of the live and of the tombstoned entries (one pass over the entries). */
function entryNames(workspace: WorkspaceCrdt): { live: Set<string>; tombstoned: Set<string> } {
  const live = new Set<string>();
  const tombstoned = new Set<string>();
  for (const [key, meta] of workspace.entries()) {
    const names = meta.deleted ? tombstoned : live;
    names.add(key);
    const path = isDocIdKey(key) ? workspace.getPath(key) : key;
    if (path !== undefined) names.add(path);
  }
  return { live, tombstoned };
}

function checkedAgainst(
  names: { live: Set<string>; tombstoned: Set<string> },
  bodyPaths: Iterable<string>,
): string[] {
  return [...bodyPaths].filter((p) => names.live.has(p) || (!names.tombstoned.has(p) && !isTempFile(p)));
}

const GROUPS: ValidationIssueKind[][] = [
  ['path_cycle', 'broken_parent'],
  ['duplicate_path'],
  ['missing_child'],
  ['orphan_body', 'missing_body'],
];

/**
 * Plans the repairs of `workspace` (not modified) given its body docs (body path → text and age):
 * validate, repair the most structural group of findings, validate again, … until nothing is left
 * that repair can fix. `now` is the clock (ms) for grace periods and `modified_at`.
 */
export function planRepairs(
  workspace: WorkspaceCrdt,
  bodies: ReadonlyMap<string, BodyInfo>,
  now: number,
  options: RepairOptions = {},
): RepairPlan {
  const graceMs = options.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  const maxPasses = options.maxPasses ?? 8;
  // The common case (every commit): nothing to repair, no copy of the doc.
  const isYoung = (path: string): boolean => {
    const first = bodies.get(path)?.firstUpdateAt ?? null;
    return first !== null && now - first < graceMs;
  };
  const firstIssues = validateWorkspace(workspace, checkedBodyPaths(workspace, bodies.keys())).issues;
  const firstPending = firstIssues
    .filter((i) => i.kind === 'orphan_body' && isYoung(i.file))
    .map((i) => i.file);
  const findings = firstIssues.filter((i) => !(i.kind === 'orphan_body' && isYoung(i.file)));
  if (findings.length === 0) {
    return {
      repairs: [],
      workspaceUpdate: null,
      bodyUpdates: new Map(),
      pendingOrphans: firstPending,
      remaining: [],
    };
  }
  const ws = WorkspaceCrdt.fromUpdate(workspace.encodeStateAsUpdate());
  const before = Y.encodeStateVector(ws.doc);
  const r = new Repairer(ws, bodies, now);
  let pending: string[] = [];
  let remaining: ValidationIssue[] = [];
  for (let pass = 0; ; pass++) {
    const issues = validateWorkspace(ws, checkedBodyPaths(ws, r.bodyPaths())).issues;
    // a body created by a repair is never a young orphan
    const youngOrphan = (i: ValidationIssue) =>
      i.kind === 'orphan_body' && !r.created.has(i.file) && isYoung(i.file);
    pending = issues.filter(youngOrphan).map((i) => i.file);
    const young = new Set(pending);
    remaining = issues.filter((i) => !youngOrphan(i));
    if (remaining.length === 0 || pass >= maxPasses) break;
    const kinds = new Set(remaining.map((i) => i.kind));
    const group = GROUPS.find((g) => g.some((k) => kinds.has(k)));
    if (!group) break;
    let changed = false;
    ws.doc.transact(() => {
      for (const kind of group) if (kinds.has(kind)) changed = r.repair(kind, young) || changed;
    });
    if (!changed) break;
  }
  const after = Y.encodeStateVector(ws.doc);
  const workspaceUpdate = sameVector(before, after) ? null : Y.encodeStateAsUpdate(ws.doc, before);
  return {
    repairs: r.repairs,
    workspaceUpdate,
    bodyUpdates: r.bodyUpdates(),
    pendingOrphans: pending,
    remaining,
  };
}

function sameVector(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The mutable state of one planning run. */
class Repairer {
  readonly repairs: Repair[] = [];
  /** New body docs: path → text. */
  readonly created = new Map<string, string>();
  /** Orphans already handled in this run. */
  private readonly adopted = new Set<string>();

  /** Per `repair()` call: the root candidates and the taken paths (built on first use). */
  private rootCandidates: { key: string; path: string }[] | null = null;
  private taken: Set<string> | null = null;

  constructor(
    private readonly ws: WorkspaceCrdt,
    private readonly bodies: ReadonlyMap<string, BodyInfo>,
    private readonly now: number,
  ) {
    this.docIdMode = [...ws.files.keys()].some(isDocIdKey);
  }

  bodyPaths(): string[] {
    return [...this.bodies.keys(), ...this.created.keys()];
  }

  private bodyText(path: string): string | undefined {
    return this.created.get(path) ?? this.bodies.get(path)?.text;
  }

  bodyUpdates(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const [path, text] of this.created) {
      const doc = new BodyDoc(path);
      if (text === '') {
        // An empty body must still exist as a doc: record an insert + delete.
        doc.insertAt(0, ' ');
        doc.deleteRange(0, 1);
      } else doc.setBody(text);
      out.set(path, doc.encodeStateAsUpdate());
      doc.destroy();
    }
    return out;
  }

  repair(kind: ValidationIssueKind, young: ReadonlySet<string>): boolean {
    this.rootCandidates = null;
    this.taken = null;
    switch (kind) {
      case 'path_cycle':
        return this.breakCycles();
      case 'broken_parent':
        return this.reattachBroken();
      case 'duplicate_path':
        return this.renameDuplicates();
      case 'missing_child':
        return this.dropDeadChildren();
      case 'orphan_body':
        return this.relinkBodies() || this.adoptOrphans(young);
      case 'missing_body':
        return this.createMissingBodies();
    }
  }

  // ------------------------------------------------------------------ helpers

  /** Doc-id mode: some key is a UUID (decided once, before any repair). */
  private readonly docIdMode: boolean;

  private live(): Map<string, FileMetadata> {
    return new Map([...this.ws.entries()].filter(([, m]) => !m.deleted));
  }

  private keyOfLink(link: string): string | null {
    return isDocIdKey(link) ? link : tryNormalizePath(link);
  }

  private pathOf(key: string): string | undefined {
    return isDocIdKey(key) ? this.ws.getPath(key) : key;
  }

  private label(key: string): string {
    return this.pathOf(key) ?? key;
  }

  private write(key: string, meta: FileMetadata): void {
    this.ws.setFile(key, { ...meta, modified_at: Math.max(this.now, meta.modified_at + 1) });
  }

  /** The workspace root: the live index (no parent, has `contents`); README.md/index.md first. */
  private root(exclude: ReadonlySet<string> = new Set()): string | null {
    this.rootCandidates ??= [...this.live()]
      .filter(([, m]) => m.part_of === null && m.contents !== null)
      .map(([k]) => ({ key: k, path: this.pathOf(k) }))
      .filter((c): c is { key: string; path: string } => c.path !== undefined)
      .sort((a, b) => rootRank(a.path) - rootRank(b.path) || (a.path < b.path ? -1 : 1));
    return this.rootCandidates.find((c) => !exclude.has(c.key))?.key ?? null;
  }

  private addChild(parentKey: string, child: string): void {
    const p = this.ws.getFile(parentKey);
    if (!p || p.deleted) return;
    const contents = p.contents ?? [];
    if (contents.some((c) => this.keyOfLink(c) === child)) return;
    this.write(parentKey, { ...p, contents: [...contents, child] });
  }

  private removeChild(parentLink: string | null, child: string): void {
    if (parentLink === null) return;
    const pk = this.keyOfLink(parentLink);
    const p = pk === null ? undefined : this.ws.getFile(pk);
    if (pk === null || !p || !p.contents) return;
    const contents = p.contents.filter((c) => this.keyOfLink(c) !== child);
    if (contents.length !== p.contents.length) this.write(pk, { ...p, contents });
  }

  /**
   * Moves `key` under `parent` (`null`: no parent). In doc-id mode a relative filename is kept, so
   * the file lands below the new parent with the same name.
   */
  private attach(key: string, parent: string | null): void {
    const meta = this.ws.getFile(key)!;
    this.removeChild(meta.part_of, key);
    this.write(key, { ...this.ws.getFile(key)!, part_of: parent });
    if (parent !== null) this.addChild(parent, key);
  }

  /** A free path like `dir/name (2).md` (no entry, live or not, and no body doc there); reserved. */
  private freePath(path: string): string {
    if (this.taken === null) {
      this.taken = new Set<string>(this.bodyPaths());
      for (const f of this.ws.listFiles({ includeDeleted: true })) this.taken.add(f.path);
      for (const key of this.ws.entries().keys()) this.taken.add(key);
    }
    const taken = this.taken;
    const dir = parentDir(path);
    const name = baseName(path);
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    let candidate = path;
    for (let n = 2; taken.has(candidate); n++)
      candidate = dir === '' ? `${stem} (${n})${ext}` : `${dir}/${stem} (${n})${ext}`;
    taken.add(candidate);
    return candidate;
  }

  /**
   * Creates a live file at `path`: a path key in path mode, a new UUID (filename relative to the
   * parent) in doc-id mode. Returns its key.
   */
  private createEntry(path: string, meta: Partial<FileMetadata>, parent: string | null): string {
    if (!this.docIdMode) {
      this.ws.setFile(path, { ...meta, filename: baseName(path), part_of: parent, modified_at: this.now });
      if (parent !== null) this.addChild(parent, path);
      return path;
    }
    const parentPath = parent === null ? null : (this.pathOf(parent) ?? null);
    const key = globalThis.crypto.randomUUID();
    const filename = parent !== null && parentPath === null ? `/${path}` : docIdFilename(path, parentPath);
    this.ws.setFile(key, { ...meta, filename, part_of: parent, modified_at: this.now });
    if (parent !== null) this.addChild(parent, key);
    return key;
  }

  // ------------------------------------------------------------------ repairs

  /** path_cycle: the newest member of each loop loses its parent link (→ root, or no parent). */
  private breakCycles(): boolean {
    const live = this.live();
    const done = new Set<string>();
    let changed = false;
    for (const start of live.keys()) {
      const chain: string[] = [];
      const seen = new Map<string, number>();
      let cur: string | null = start;
      while (cur !== null && live.has(cur) && !seen.has(cur) && !done.has(cur)) {
        seen.set(cur, chain.length);
        chain.push(cur);
        const link: string | null = live.get(cur)!.part_of;
        cur = link === null ? null : this.keyOfLink(link);
      }
      if (cur === null || !seen.has(cur)) {
        for (const k of chain) done.add(k);
        continue;
      }
      const loop = chain.slice(seen.get(cur));
      for (const k of chain) done.add(k);
      const newest = loop.reduce((a, b) => (live.get(b)!.modified_at > live.get(a)!.modified_at ? b : a));
      const members = new Set(loop);
      const root = this.root(members);
      const target = root !== null && root !== newest ? root : null;
      const oldParent = live.get(newest)!.part_of;
      this.attach(newest, target);
      changed = true;
      this.repairs.push({
        kind: 'break_cycle',
        issue: 'path_cycle',
        files: [this.label(newest), ...loop.filter((k) => k !== newest).map((k) => this.label(k))],
        message: `part_of loop of ${loop.length} files cut at its most recently changed link (${this.label(newest)} → ${oldParent}); now ${target === null ? 'a root file' : `under ${this.label(target)}`}`,
      });
    }
    return changed;
  }

  /** broken_parent: a file whose direct parent is missing or deleted goes to the nearest live ancestor. */
  private reattachBroken(): boolean {
    const entries = this.ws.entries();
    const live = this.live();
    let changed = false;
    for (const [key, meta] of live) {
      if (meta.part_of === null) continue;
      const pk = this.keyOfLink(meta.part_of);
      if (pk !== null && live.has(pk)) continue;
      // walk up through dead entries to the nearest live ancestor
      let ancestor: string | null = null;
      const seen = new Set<string>([key]);
      let link: string | null = meta.part_of;
      while (link !== null) {
        const k = this.keyOfLink(link);
        if (k === null || seen.has(k)) break;
        seen.add(k);
        if (live.has(k)) {
          ancestor = k;
          break;
        }
        link = entries.get(k)?.part_of ?? null;
      }
      const target = ancestor ?? this.root(new Set([key]));
      this.attach(key, target);
      changed = true;
      this.repairs.push({
        kind: 'reattach',
        issue: 'broken_parent',
        files: [this.label(key), meta.part_of],
        message: `parent ${meta.part_of} is missing or deleted; re-attached to ${target === null ? 'no parent (root file)' : ancestor !== null ? `nearest live ancestor ${this.label(target)}` : `the root ${this.label(target)}`}`,
      });
    }
    return changed;
  }

  /** duplicate_path: the newest file keeps the path, each other one moves to `name (n).md`. */
  private renameDuplicates(): boolean {
    const byPath = new Map<string, string[]>();
    for (const [key] of this.live()) {
      const p = this.pathOf(key);
      if (p === undefined) continue;
      byPath.set(p, [...(byPath.get(p) ?? []), key]);
    }
    let changed = false;
    for (const [path, keys] of byPath) {
      if (keys.length < 2) continue;
      const entries = this.ws.entries();
      const sorted = [...keys].sort(
        (a, b) => entries.get(b)!.modified_at - entries.get(a)!.modified_at || (a < b ? -1 : 1),
      );
      const [keeper, ...others] = sorted;
      for (const key of others) {
        const target = this.freePath(path);
        const meta = this.ws.getFile(key)!;
        if (isDocIdKey(key)) {
          const slash = meta.filename.lastIndexOf('/');
          const filename = `${meta.filename.slice(0, slash + 1)}${baseName(target)}`;
          this.write(key, { ...meta, filename });
        } else {
          // a path key cannot change its name: re-create it at the new path, tombstone the old key
          const pk = meta.part_of === null ? null : this.keyOfLink(meta.part_of);
          const parent = pk !== null && this.ws.getFile(pk)?.deleted === false ? pk : null;
          this.createEntry(target, meta, parent);
          this.removeChild(meta.part_of, key);
          this.write(key, { ...this.ws.getFile(key)!, deleted: true });
        }
        // the body at the shared path stays with the keeper; the moved file keeps a copy of it
        const ownBody = key !== path && (this.created.has(key) || this.bodies.has(key));
        const sharedBody = ownBody || this.created.has(target) ? undefined : this.bodyText(path);
        if (sharedBody !== undefined) this.created.set(target, sharedBody);
        changed = true;
        this.repairs.push({
          kind: 'rename_duplicate',
          issue: 'duplicate_path',
          files: [target, path],
          message: `${keys.length} live files resolved to ${path}; the newest (${keeper}) keeps it, ${key} moved to ${target}`,
        });
      }
    }
    return changed;
  }

  /** missing_child: links to missing or deleted files leave `contents`. */
  private dropDeadChildren(): boolean {
    const live = this.live();
    let changed = false;
    for (const [key, meta] of live) {
      if (!meta.contents) continue;
      const dead = meta.contents.filter((c) => {
        const k = this.keyOfLink(c);
        return k === null || !live.has(k);
      });
      if (dead.length === 0) continue;
      this.write(key, { ...meta, contents: meta.contents.filter((c) => !dead.includes(c)) });
      changed = true;
      this.repairs.push({
        kind: 'drop_child_link',
        issue: 'missing_child',
        files: [this.label(key), ...dead],
        message: `contents listed ${dead.length} missing or deleted file(s): ${dead.join(', ')}`,
      });
    }
    return changed;
  }

  /**
   * orphan_body past its grace period: its text is copied to a new file `lost+found/<name>` (title,
   * `part_of` the root, `recovered_from` in its frontmatter) and the orphan's path gets a tombstone
   * entry, so the original doc stays untouched as history. An orphan already under `lost+found/`
   * (a copy whose entry was not written yet) is adopted where it is.
   */
  private adoptOrphans(young: ReadonlySet<string>): boolean {
    let changed = false;
    for (const orphan of findOrphanBodies(this.ws, this.bodyPaths())) {
      // adopt each orphan once: a path no entry can be written for (a temp file) stays a finding
      if (young.has(orphan) || this.adopted.has(orphan)) continue;
      this.adopted.add(orphan);
      const text = this.bodyText(orphan) ?? '';
      const root = this.root();
      const name = isDocIdKey(orphan) ? `${orphan}.md` : baseName(orphan);
      const title = name.replace(/\.md$/i, '');
      if (orphan.startsWith(`${LOST_AND_FOUND_DIR}/`) && !isDocIdKey(orphan)) {
        this.createEntry(orphan, { title }, root);
        changed = true;
        this.repairs.push({
          kind: 'adopt_orphan',
          issue: 'orphan_body',
          files: [orphan],
          message: `body doc ${orphan} had no file; adopted in place`,
        });
        continue;
      }
      const target = this.freePath(`${LOST_AND_FOUND_DIR}/${name}`);
      this.created.set(target, text);
      this.createEntry(target, { title, extra: { recovered_from: orphan } }, root);
      const tombstone = createFileMetadata({
        filename: baseName(orphan),
        deleted: true,
        extra: { recovered_to: target },
        modified_at: this.now,
      });
      if (isDocIdKey(orphan) || !this.docIdMode) this.ws.setFile(orphan, tombstone);
      else this.ws.setFile(globalThis.crypto.randomUUID(), { ...tombstone, filename: orphan });
      changed = true;
      this.repairs.push({
        kind: 'adopt_orphan',
        issue: 'orphan_body',
        files: [target, orphan],
        message: `body doc ${orphan} had no file past its grace period; its text (${text.length} chars) is now the file ${target}, the original doc is kept as history`,
      });
    }
    return changed;
  }

  /** Doc-id mode: files without a body take back the orphan body doc carrying their name. */
  private relinkBodies(): boolean {
    if (!this.docIdMode) return false;
    const bodySet = new Set(this.bodyPaths());
    const orphans = findOrphanBodies(this.ws, this.bodyPaths()).filter((o) => !isDocIdKey(o));
    const livePaths = new Set(this.ws.listFiles().map((f) => f.path));
    let changed = false;
    for (const f of this.ws.listFiles()) {
      if (!isDocIdKey(f.key) || bodySet.has(f.path) || bodySet.has(f.key)) continue;
      const orphan = orphans.find((o) => baseName(o) === baseName(f.path) && !livePaths.has(o));
      if (orphan === undefined) continue;
      const parent = f.metadata.part_of;
      const parentPath = parent === null ? null : (this.pathOf(parent) ?? null);
      const filename =
        parent !== null && parentPath === null ? `/${orphan}` : docIdFilename(orphan, parentPath);
      this.write(f.key, { ...f.metadata, filename });
      orphans.splice(orphans.indexOf(orphan), 1);
      livePaths.add(orphan);
      changed = true;
      this.repairs.push({
        kind: 'relink_body',
        issue: 'missing_body',
        files: [orphan, f.path],
        message: `file ${f.path} had no body doc and the orphan body doc ${orphan} carries its name: the file moves back to ${orphan}`,
      });
    }
    return changed;
  }

  /** missing_body: an empty body doc. */
  private createMissingBodies(): boolean {
    const bodySet = new Set(this.bodyPaths());
    let changed = false;
    for (const f of this.ws.listFiles()) {
      if (bodySet.has(f.path) || bodySet.has(f.key)) continue;
      this.created.set(f.path, '');
      bodySet.add(f.path);
      changed = true;
      this.repairs.push({
        kind: 'create_body',
        issue: 'missing_body',
        files: [f.path],
        message: `live file had no body doc; created an empty body`,
      });
    }
    return changed;
  }
}

function rootRank(path: string): number {
  const p = path.toLowerCase();
  return p === 'readme.md' ? 0 : p === 'index.md' ? 1 : 2;
}
