/**
 * Document ids and workspace paths (docs/protocol.md#names).
 *
 * ```
 * workspace:{workspaceId}          workspace doc   e.g. workspace:ws_7f3a
 * body:{workspaceId}/{path}        body doc        e.g. body:ws_7f3a/journal/2024.md
 * ```
 *
 * Workspace ids match `[A-Za-z0-9_-]{1,64}`. Paths are workspace-relative and canonical:
 * builders ({@link bodyDocId}) canonicalize, the parser ({@link parseDocId}) requires the
 * canonical form, because a non-canonical doc id on the wire is a protocol error (4400).
 * A doc id longer than 255 UTF-8 bytes is always an error (never truncated).
 */
import { InvalidPathError, normalizePath, safePath } from '@diaryx-sync/crdt';
import { ProtocolError } from './errors';
import { MAX_DOC_ID_BYTES, utf8ByteLength } from './framing';

/** Pattern of a workspace id. */
export const WORKSPACE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Prefix of workspace doc ids. */
export const WORKSPACE_DOC_PREFIX = 'workspace:';
/** Prefix of body doc ids. */
export const BODY_DOC_PREFIX = 'body:';

/** A parsed doc id. */
export type ParsedDocId =
  { kind: 'workspace'; workspaceId: string } | { kind: 'body'; workspaceId: string; path: string };

/** True when `id` is a valid workspace id (`[A-Za-z0-9_-]{1,64}`). */
export function isValidWorkspaceId(id: string): boolean {
  return typeof id === 'string' && WORKSPACE_ID_PATTERN.test(id);
}

/**
 * Canonicalizes a workspace path: `\` becomes `/`, leading `./` and `/` are stripped
 * (repeatedly). Rejects empty paths, empty segments, `.` and `..` segments, NUL and control
 * characters. `README.md`, `./README.md` and `/README.md` all give `README.md`.
 *
 * This is `normalizePath` of `@diaryx-sync/crdt` (one set of rules for the whole system), with
 * its error turned into a {@link ProtocolError}.
 *
 * @throws {@link ProtocolError} (`bad_path`) when the path is rejected.
 */
export function canonicalizePath(path: string): string {
  try {
    return normalizePath(path);
  } catch (error) {
    const detail = error instanceof InvalidPathError ? error.message : 'invalid path';
    throw new ProtocolError('bad_path', detail);
  }
}

/** True when `path` is a valid path already in canonical form. */
export function isCanonicalPath(path: string): boolean {
  try {
    return canonicalizePath(path) === path;
  } catch {
    return false;
  }
}

/**
 * The rules for names entering the system (`safePath` of `@diaryx-sync/crdt`): a canonical path
 * that is not NFC, holds a bidi control character, is a Windows reserved name or is over the
 * length limits is refused (`unsafe_path`, close 4400).
 */
function checkSafePath(path: string): void {
  let safe: string;
  try {
    safe = safePath(path);
  } catch (error) {
    const why = error instanceof InvalidPathError ? error.reason : 'unsafe path';
    throw new ProtocolError('unsafe_path', `unsafe_path: ${why}`);
  }
  if (safe !== path) throw new ProtocolError('unsafe_path', 'unsafe_path: the path is not in Unicode NFC');
}

function checkLength(docId: string): string {
  const n = utf8ByteLength(docId);
  if (n > MAX_DOC_ID_BYTES) {
    throw new ProtocolError('doc_id_too_long', `doc id is ${n} bytes (max ${MAX_DOC_ID_BYTES})`);
  }
  return docId;
}

function checkWorkspaceId(workspaceId: string): void {
  if (!isValidWorkspaceId(workspaceId)) {
    throw new ProtocolError(
      'bad_doc_id',
      `bad workspace id ${JSON.stringify(String(workspaceId).slice(0, 70))}`,
    );
  }
}

/**
 * The workspace doc id `workspace:{id}`.
 *
 * @throws {@link ProtocolError} (`bad_doc_id`) for an invalid workspace id.
 */
export function workspaceDocId(workspaceId: string): string {
  checkWorkspaceId(workspaceId);
  return `${WORKSPACE_DOC_PREFIX}${workspaceId}`;
}

/**
 * The body doc id `body:{workspaceId}/{canonical path}`; the path is canonicalized first.
 *
 * @throws {@link ProtocolError}: `bad_doc_id` (workspace id), `bad_path` (path),
 * `doc_id_too_long` (over 255 UTF-8 bytes).
 */
export function bodyDocId(workspaceId: string, path: string): string {
  checkWorkspaceId(workspaceId);
  const canonical = canonicalizePath(path);
  return checkLength(`${BODY_DOC_PREFIX}${workspaceId}/${canonical}`);
}

/**
 * Parses and validates a doc id as received on the wire. The path of a body doc id must
 * already be canonical.
 *
 * @throws {@link ProtocolError}: `doc_id_too_long` over 255 UTF-8 bytes, `unsafe_path` for a
 * body doc id whose path breaks the rules for new names, `bad_doc_id` otherwise.
 */
export function parseDocId(docId: string): ParsedDocId {
  if (typeof docId !== 'string') throw new ProtocolError('bad_doc_id', 'doc id: not a string');
  checkLength(docId);
  if (docId.startsWith(WORKSPACE_DOC_PREFIX)) {
    const workspaceId = docId.slice(WORKSPACE_DOC_PREFIX.length);
    checkWorkspaceId(workspaceId);
    return { kind: 'workspace', workspaceId };
  }
  if (docId.startsWith(BODY_DOC_PREFIX)) {
    const rest = docId.slice(BODY_DOC_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash < 0) throw new ProtocolError('bad_doc_id', 'body doc id without a path');
    const workspaceId = rest.slice(0, slash);
    checkWorkspaceId(workspaceId);
    const path = rest.slice(slash + 1);
    let canonical: string;
    try {
      canonical = canonicalizePath(path);
    } catch (error) {
      const why = error instanceof ProtocolError ? error.reason : 'invalid path';
      throw new ProtocolError('bad_doc_id', `body doc id: ${why}`);
    }
    if (canonical !== path) throw new ProtocolError('bad_doc_id', 'body doc id: path is not canonical');
    checkSafePath(path);
    return { kind: 'body', workspaceId, path };
  }
  throw new ProtocolError('bad_doc_id', 'doc id must start with "workspace:" or "body:"');
}

/** Like {@link parseDocId} but returns `null` for an invalid doc id. */
export function tryParseDocId(docId: string): ParsedDocId | null {
  try {
    return parseDocId(docId);
  } catch {
    return null;
  }
}

/** Formats a parsed doc id back into its wire form (inverse of {@link parseDocId}). */
export function formatDocId(parsed: ParsedDocId): string {
  return parsed.kind === 'workspace'
    ? workspaceDocId(parsed.workspaceId)
    : bodyDocId(parsed.workspaceId, parsed.path);
}
