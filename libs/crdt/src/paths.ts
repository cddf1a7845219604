/**
 * Workspace path rules (docs/protocol.md#names): one canonical spelling for every file path.
 */

/** Thrown by {@link normalizePath} for a path that cannot name a workspace file. */
export class InvalidPathError extends Error {
  /** Always `InvalidPathError`. */
  override readonly name = 'InvalidPathError';
  /** The rejected input. */
  readonly path: string;
  /** Rejects `path` for `reason`. */
  constructor(path: string, reason: string) {
    super(`invalid path ${JSON.stringify(path)}: ${reason}`);
    this.path = path;
  }
}

// C0 controls, DEL and C1 controls.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Normalizes a workspace-relative path: `\` becomes `/`, leading `./` and `/` are stripped.
 * Empty paths, empty segments, `.` and `..` segments, NUL and control characters are rejected.
 *
 * `README.md`, `./README.md` and `/README.md` all normalize to `README.md`.
 *
 * @throws {@link InvalidPathError} when the path is rejected.
 */
export function normalizePath(path: string): string {
  if (typeof path !== 'string') throw new InvalidPathError(String(path), 'not a string');
  if (CONTROL_CHARS.test(path)) throw new InvalidPathError(path, 'contains a control character');
  let p = path.replace(/\\/g, '/');
  for (;;) {
    if (p.startsWith('./')) p = p.slice(2);
    else if (p.startsWith('/')) p = p.slice(1);
    else break;
  }
  if (p === '') throw new InvalidPathError(path, 'empty path');
  for (const segment of p.split('/')) {
    if (segment === '') throw new InvalidPathError(path, 'empty segment');
    if (segment === '.' || segment === '..') throw new InvalidPathError(path, `"${segment}" segment`);
  }
  return p;
}

/** Like {@link normalizePath} but returns `null` instead of throwing. */
export function tryNormalizePath(path: string): string | null {
  try {
    return normalizePath(path);
  } catch {
    return null;
  }
}

/** True when `path` is already in canonical form (`normalizePath(path) === path`). */
export function isCanonicalPath(path: string): boolean {
  return tryNormalizePath(path) === path;
}

/**
 * True for editor/OS temporary files that never enter the workspace map
 * (names ending in `.tmp`, `.bak`, `.swap` or `~`).
 */
export function isTempFile(path: string): boolean {
  const lower = path.toLowerCase();
  return lower.endsWith('.tmp') || lower.endsWith('.bak') || lower.endsWith('.swap') || lower.endsWith('~');
}

/** The directory part of a normalized path (`''` for a root-level file). */
export function parentDir(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** The last segment of a path. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** Joins a directory (possibly `''`) and a file name. */
export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}
