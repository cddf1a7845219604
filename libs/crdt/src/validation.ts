/**
 * Sanity validation of a workspace and its body docs (run before every git commit).
 */
import { isDocIdKey, type WorkspaceCrdt } from './workspace-crdt';
import { tryNormalizePath } from './paths';

/** Kinds of validation issues, by name: `ValidationIssueKind.BrokenParent === 'broken_parent'`. */
export const ValidationIssueKind = {
  /** `part_of` (or an ancestor's) names a missing or deleted file. */
  BrokenParent: 'broken_parent',
  /** `contents` lists a missing or deleted file. */
  MissingChild: 'missing_child',
  /** A body doc with no live file. */
  OrphanBody: 'orphan_body',
  /** A live file with no body doc. */
  MissingBody: 'missing_body',
  /** The `part_of` chain loops. */
  PathCycle: 'path_cycle',
  /** Two live files resolve to one path. */
  DuplicatePath: 'duplicate_path',
} as const;

/** Kinds of validation issues. */
export type ValidationIssueKind = (typeof ValidationIssueKind)[keyof typeof ValidationIssueKind];

/** One problem found by {@link validateWorkspace}. */
export interface ValidationIssue {
  /** What is wrong. */
  kind: ValidationIssueKind;
  /** The file concerned (its path, or its key when no path can be derived). */
  file: string;
  /** Human-readable explanation. */
  message: string;
}

/** Result of {@link validateWorkspace}. */
export interface ValidationReport {
  /** True when there are no issues. */
  ok: boolean;
  /** The issues, sorted by file then kind. */
  issues: ValidationIssue[];
}

/**
 * The body docs present: their paths (an iterable of paths or of `[path, body]` pairs, a set, a
 * map keyed by path, a `BodyDocManager`, or a plain object keyed by path).
 */
export type BodyPaths =
  | Iterable<string>
  | Iterable<readonly [string, unknown]>
  | ReadonlyMap<string, unknown>
  | { loadedPaths(): string[] }
  | Readonly<Record<string, unknown>>;

function bodyPathSet(bodies: BodyPaths): Set<string> {
  let raw: unknown[];
  if (bodies instanceof Map) raw = [...bodies.keys()];
  else if (typeof (bodies as { loadedPaths?: unknown }).loadedPaths === 'function')
    raw = (bodies as { loadedPaths(): string[] }).loadedPaths();
  else if (typeof (bodies as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function')
    raw = [...(bodies as Iterable<unknown>)].map((x) => (Array.isArray(x) ? (x[0] as unknown) : x));
  else raw = Object.keys(bodies);
  const out = new Set<string>();
  for (const p of raw) {
    if (typeof p !== 'string') continue;
    const n = tryNormalizePath(p);
    out.add(n ?? p);
  }
  return out;
}

/**
 * Checks: broken parent chains (`part_of` naming a missing or deleted file), missing children
 * (`contents` naming a missing or deleted file), orphan body docs (a body with no live file),
 * missing body docs (a live file with no body), path cycles (`part_of` loops), and two live
 * files resolving to one path. Empty bodies are fine.
 */
export function validateWorkspace(workspace: WorkspaceCrdt, bodies: BodyPaths): ValidationReport {
  const issues: ValidationIssue[] = [];
  const entries = workspace.entries();
  const live = new Map([...entries].filter(([, m]) => !m.deleted));
  const pathOf = (key: string): string | undefined => (isDocIdKey(key) ? workspace.getPath(key) : key);
  const keyOfLink = (link: string): string | null => (isDocIdKey(link) ? link : tryNormalizePath(link));
  const add = (kind: ValidationIssueKind, file: string, message: string): void => {
    issues.push({ kind, file, message });
  };

  const livePaths = new Map<string, string[]>();
  for (const [key, meta] of live) {
    const path = pathOf(key);
    const file = path ?? key;
    // part_of chain: broken links and cycles.
    const seen = new Set<string>([key]);
    let cur = meta;
    let curKey = key;
    while (cur.part_of !== null) {
      const parentKey = keyOfLink(cur.part_of);
      const parent = parentKey === null ? undefined : live.get(parentKey);
      if (parentKey === null || !parent) {
        add(
          'broken_parent',
          file,
          curKey === key
            ? `part_of points to a missing or deleted file: ${cur.part_of}`
            : `ancestor ${pathOf(curKey) ?? curKey} points to a missing or deleted file: ${cur.part_of}`,
        );
        break;
      }
      if (seen.has(parentKey)) {
        add('path_cycle', file, `part_of chain loops back to ${pathOf(parentKey) ?? parentKey}`);
        break;
      }
      seen.add(parentKey);
      cur = parent;
      curKey = parentKey;
    }
    for (const child of meta.contents ?? []) {
      const ck = keyOfLink(child);
      if (ck === null || !live.has(ck))
        add('missing_child', file, `contents lists a missing or deleted file: ${child}`);
    }
    if (path !== undefined) {
      const list = livePaths.get(path);
      if (list) list.push(key);
      else livePaths.set(path, [key]);
    }
  }
  for (const [path, keys] of livePaths) {
    if (keys.length > 1)
      add('duplicate_path', path, `${keys.length} live files resolve to this path: ${keys.join(', ')}`);
  }
  const bodySet = bodyPathSet(bodies);
  for (const [path, keys] of livePaths) {
    if (!bodySet.has(path) && !keys.some((k) => bodySet.has(k)))
      add('missing_body', path, 'live file has no body doc');
  }
  const liveKeys = new Set(live.keys());
  for (const b of bodySet) {
    if (!livePaths.has(b) && !liveKeys.has(b)) add('orphan_body', b, 'body doc has no live file');
  }
  issues.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0,
  );
  return { ok: issues.length === 0, issues };
}
