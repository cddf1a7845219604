/**
 * Workspace path rules (docs/protocol.md#names): one canonical spelling for every file path.
 */

/** Thrown by {@link normalizePath} for a path that cannot name a workspace file. */
export class InvalidPathError extends Error {
  /** Always `InvalidPathError`. */
  override readonly name = 'InvalidPathError';
  /** The rejected input. */
  readonly path: string;
  /** Why it was rejected, without the path (e.g. `contains a bidi control character`). */
  readonly reason: string;
  /** Rejects `path` for `reason`. */
  constructor(path: string, reason: string) {
    super(`invalid path ${JSON.stringify(path)}: ${reason}`);
    this.path = path;
    this.reason = reason;
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

// ---------------------------------------------------------------------------------------------
// Rules for names that enter the system (zip import, doc ids on the sockets, the CLI):
// docs/protocol.md#paths.

/**
 * Longest file or folder name, in UTF-8 bytes: the name limit of ext4, APFS and NTFS (255 UTF-16
 * units ≥ 255 UTF-8 bytes), so a pulled file can always be created.
 */
export const MAX_PATH_SEGMENT_BYTES = 255;

/**
 * Longest path, in UTF-8 bytes: `body:{workspace id}/{path}` must fit in a 255-byte doc id for
 * every workspace id (≤ 64 characters), 255 − 5 − 64 − 1 = 185.
 */
export const MAX_PATH_BYTES = 185;

// Bidirectional formatting characters: LRE, RLE, PDF, LRO, RLO (U+202A–U+202E), LRI, RLI, FSI,
// PDI (U+2066–U+2069), LRM, RLM (U+200E, U+200F) and ALM (U+061C). They reorder how a name is
// displayed ("report\u202Edm.exe" shows as "reportexe.md").
const BIDI_CONTROL_CHARS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/;

// Windows device names, with or without an extension, in any case (`CON`, `con.md`, `Com1.txt`).
const WINDOWS_RESERVED_NAME = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\s*\..*)?\s*$/i;

/**
 * The canonical, safe spelling of a path that is about to enter a workspace: {@link normalizePath},
 * then Unicode NFC, then refused when a segment holds a bidi control character, is a Windows
 * reserved name (`CON`, `PRN`, `AUX`, `NUL`, `COM1`–`COM9`, `LPT1`–`LPT9`, any extension, any
 * case) or is longer than {@link MAX_PATH_SEGMENT_BYTES}, or the path is longer than
 * {@link MAX_PATH_BYTES}. Two spellings that give the same `safePath` name the same file.
 *
 * @throws {@link InvalidPathError} when the path is invalid or unsafe.
 */
export function safePath(path: string): string {
  const p = normalizePath(path).normalize('NFC');
  if (BIDI_CONTROL_CHARS.test(p)) throw new InvalidPathError(path, 'contains a bidi control character');
  for (const segment of p.split('/')) {
    if (WINDOWS_RESERVED_NAME.test(segment))
      throw new InvalidPathError(path, `"${segment}" is a reserved name on Windows`);
    if (utf8Length(segment) > MAX_PATH_SEGMENT_BYTES)
      throw new InvalidPathError(path, `a name is longer than ${MAX_PATH_SEGMENT_BYTES} UTF-8 bytes`);
  }
  if (utf8Length(p) > MAX_PATH_BYTES)
    throw new InvalidPathError(path, `longer than ${MAX_PATH_BYTES} UTF-8 bytes`);
  return p;
}

/** True when `path` is safe and already in its safe canonical form (`safePath(path) === path`). */
export function isSafePath(path: string): boolean {
  try {
    return safePath(path) === path;
  } catch {
    return false;
  }
}

// Characters Windows refuses in file names (besides controls and `\`, refused everywhere).
const WINDOWS_FORBIDDEN_CHARS = /[<>:"|?*]/;

/**
 * Why `path` (already safe, see {@link safePath}) cannot name a file on Windows: a character of
 * `<>:"|?*`, or a name ending in a dot or a space (Windows strips them, so two names would meet).
 * `undefined` when it can. Clients writing files on Windows skip such paths.
 */
export function windowsPathProblem(path: string): string | undefined {
  for (const segment of path.split('/')) {
    if (WINDOWS_FORBIDDEN_CHARS.test(segment))
      return `"${segment}" holds a character Windows refuses (<>:"|?*)`;
    if (/[. ]$/.test(segment)) return `"${segment}" ends in a dot or a space (Windows strips them)`;
  }
  return undefined;
}

const utf8 = new TextEncoder();

/** Length of `text` in UTF-8 bytes. */
function utf8Length(text: string): number {
  return utf8.encode(text).length;
}
