/**
 * What an update changed in a workspace, and rename detection in path mode.
 */
import type { FileMetadata } from './file-metadata';
import { parentDir } from './paths';

/** A detected rename. */
export interface FileRename {
  /** Old path. */
  from: string;
  /** New path. */
  to: string;
}

/** Files changed by one update, as paths. */
export interface FileChanges {
  /** Live files that did not exist before. */
  created: string[];
  /** Files that were live and are now tombstoned or removed. */
  deleted: string[];
  /** Tombstoned files that are live again. */
  restored: string[];
  /** Live files whose metadata changed. */
  modified: string[];
  /** Renames (a delete + create pair, or a doc id whose path changed). */
  renamed: FileRename[];
}

/** Window within which a delete and a create under the same parent count as a rename. */
export const RENAME_WINDOW_MS = 5000;

/** An empty {@link FileChanges}. */
export function emptyFileChanges(): FileChanges {
  return { created: [], deleted: [], restored: [], modified: [], renamed: [] };
}

/** Every path mentioned by a change set (both ends of renames), sorted and unique. */
export function changedPaths(c: FileChanges): string[] {
  const s = new Set<string>([...c.created, ...c.deleted, ...c.restored, ...c.modified]);
  for (const r of c.renamed) {
    s.add(r.from);
    s.add(r.to);
  }
  return [...s].sort();
}

/** One side of a change: the file's path and its metadata (or undefined when absent). */
export interface FileState {
  /** Workspace-relative path. */
  path: string;
  /** Metadata, or undefined when the file is absent. */
  meta: FileMetadata | undefined;
}

function parentKey(path: string, meta: FileMetadata): string {
  return meta.part_of !== null ? `p:${meta.part_of}` : `d:${parentDir(path)}`;
}

/**
 * Classifies before/after states (keyed by file path) into a {@link FileChanges}, then pairs
 * deletes with creates as renames: same parent and title, else same parent and `modified_at`
 * within {@link RENAME_WINDOW_MS}, else a single delete/create pair under the same parent.
 * Within the first two rules the closest `modified_at` pairs first.
 */
export function classifyChanges(
  before: ReadonlyMap<string, FileMetadata | undefined>,
  after: ReadonlyMap<string, FileMetadata | undefined>,
): FileChanges {
  const out = emptyFileChanges();
  const deletedMeta = new Map<string, FileMetadata>();
  const createdMeta = new Map<string, FileMetadata>();
  const keys = new Set<string>([...before.keys(), ...after.keys()]);
  for (const path of [...keys].sort()) {
    const b = before.get(path);
    const a = after.get(path);
    const bLive = b !== undefined && !b.deleted;
    const aLive = a !== undefined && !a.deleted;
    if (!bLive && aLive) {
      if (b === undefined) {
        out.created.push(path);
        createdMeta.set(path, a);
      } else out.restored.push(path);
    } else if (bLive && !aLive) {
      out.deleted.push(path);
      deletedMeta.set(path, b);
    } else if (bLive && aLive && JSON.stringify(b) !== JSON.stringify(a)) {
      out.modified.push(path);
    }
  }
  detectRenames(out, deletedMeta, createdMeta);
  return out;
}

function detectRenames(
  out: FileChanges,
  deleted: Map<string, FileMetadata>,
  created: Map<string, FileMetadata>,
): void {
  if (deleted.size === 0 || created.size === 0) return;
  const pair = (from: string, to: string): void => {
    out.renamed.push({ from, to });
    deleted.delete(from);
    created.delete(to);
  };
  const passes: Array<(d: [string, FileMetadata], c: [string, FileMetadata]) => boolean> = [
    ([dp, dm], [cp, cm]) =>
      parentKey(dp, dm) === parentKey(cp, cm) && dm.title !== null && dm.title === cm.title,
    ([dp, dm], [cp, cm]) =>
      parentKey(dp, dm) === parentKey(cp, cm) &&
      Math.abs(dm.modified_at - cm.modified_at) <= RENAME_WINDOW_MS,
  ];
  // Within a pass, candidate pairs are taken closest `modified_at` first (then by path), so
  // several renames in one update pair up independently of path order.
  for (const matches of passes) {
    const candidates: { d: string; c: string; delta: number }[] = [];
    for (const d of deleted) {
      for (const c of created) {
        if (matches(d, c))
          candidates.push({ d: d[0], c: c[0], delta: Math.abs(d[1].modified_at - c[1].modified_at) });
      }
    }
    candidates.sort((x, y) => x.delta - y.delta || cmp(x.d, y.d) || cmp(x.c, y.c));
    for (const { d, c } of candidates) if (deleted.has(d) && created.has(c)) pair(d, c);
  }
  // A single remaining delete/create pair under one parent.
  const byParentD = groupByParent(deleted);
  const byParentC = groupByParent(created);
  for (const [parent, ds] of byParentD) {
    const cs = byParentC.get(parent);
    if (ds.length === 1 && cs && cs.length === 1) pair(ds[0], cs[0]);
  }
  const renamedFrom = new Set(out.renamed.map((r) => r.from));
  const renamedTo = new Set(out.renamed.map((r) => r.to));
  out.deleted = out.deleted.filter((p) => !renamedFrom.has(p));
  out.created = out.created.filter((p) => !renamedTo.has(p));
  out.renamed.sort((x, y) => (x.from < y.from ? -1 : x.from > y.from ? 1 : 0));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupByParent(m: Map<string, FileMetadata>): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const [p, meta] of m) {
    const k = parentKey(p, meta);
    const list = g.get(k);
    if (list) list.push(p);
    else g.set(k, [p]);
  }
  return g;
}
