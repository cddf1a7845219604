/**
 * Document ids, the one module that owns them (docs/protocol.md#names):
 *
 * ```
 * workspace:{workspaceId}          workspace doc   e.g. workspace:ws_7f3a
 * body:{workspaceId}/{path}        body doc        e.g. body:ws_7f3a/journal/2024.md
 * ```
 *
 * Workspace ids match {@link WORKSPACE_ID_PATTERN}. Paths are workspace-relative and canonical:
 * the builder ({@link bodyDocId}) canonicalizes, the parser ({@link parseDocId}) requires the
 * canonical form and a path that is safe for a new name (`safePath`), because a non-canonical doc
 * id on the wire is a protocol error (4400). A doc id longer than {@link MAX_DOC_ID_BYTES} UTF-8
 * bytes is always an error (never truncated). {@link isDocId} is the test form of the parser.
 */
import { InvalidPathError, normalizePath, safePath } from './paths';

/** Pattern of a workspace id: `[A-Za-z0-9_-]{1,64}`. */
export const WORKSPACE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Prefix of workspace doc ids. */
export const WORKSPACE_DOC_PREFIX = 'workspace:';
/** Prefix of body doc ids. */
export const BODY_DOC_PREFIX = 'body:';

/** Longest doc id in UTF-8 bytes (its length is one byte in a `/sync2` frame). */
export const MAX_DOC_ID_BYTES = 255;

/** A parsed doc id. */
export type ParsedDocId =
  { kind: 'workspace'; workspaceId: string } | { kind: 'body'; workspaceId: string; path: string };

/**
 * Why a doc id was refused: `bad_doc_id` (prefix, workspace id, non-canonical or invalid path),
 * `doc_id_too_long` (over 255 UTF-8 bytes), `unsafe_path` (a valid path that breaks the rules for
 * new names), `bad_path` (a path given to {@link bodyDocId} that is not a valid path). The same
 * strings are `ProtocolErrorKind`s of `@diaryx-sync/protocol`.
 */
export type DocIdErrorKind = 'bad_doc_id' | 'doc_id_too_long' | 'unsafe_path' | 'bad_path';

/** A refused doc id or workspace id. */
export class DocIdError extends Error {
  override readonly name = 'DocIdError';

  /** A refusal of `kind`, with a short human-readable message. */
  constructor(
    readonly kind: DocIdErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const encoder = new TextEncoder();

/** True when `id` is a valid workspace id ({@link WORKSPACE_ID_PATTERN}). */
export function isValidWorkspaceId(id: string): boolean {
  return typeof id === 'string' && WORKSPACE_ID_PATTERN.test(id);
}

function checkWorkspaceId(workspaceId: string): void {
  if (!isValidWorkspaceId(workspaceId)) {
    throw new DocIdError(
      'bad_doc_id',
      `bad workspace id ${JSON.stringify(String(workspaceId).slice(0, 70))}`,
    );
  }
}

function checkLength(docId: string): string {
  const n = encoder.encode(docId).length;
  if (n > MAX_DOC_ID_BYTES) {
    throw new DocIdError('doc_id_too_long', `doc id is ${n} bytes (max ${MAX_DOC_ID_BYTES})`);
  }
  return docId;
}

function messageOf(error: unknown): string {
  return error instanceof InvalidPathError ? error.message : 'invalid path';
}

/**
 * The rules for names entering the system (`safePath`): a canonical path that is not NFC, holds a
 * bidi control character, is a Windows reserved name or is over the length limits is refused.
 */
function checkSafePath(path: string): void {
  let safe: string;
  try {
    safe = safePath(path);
  } catch (error) {
    throw new DocIdError(
      'unsafe_path',
      `unsafe_path: ${error instanceof InvalidPathError ? error.reason : 'unsafe path'}`,
    );
  }
  if (safe !== path) throw new DocIdError('unsafe_path', 'unsafe_path: the path is not in Unicode NFC');
}

/**
 * The workspace doc id `workspace:{id}`.
 *
 * @throws {@link DocIdError} (`bad_doc_id`) for an invalid workspace id.
 */
export function workspaceDocId(workspaceId: string): string {
  checkWorkspaceId(workspaceId);
  return `${WORKSPACE_DOC_PREFIX}${workspaceId}`;
}

/**
 * The body doc id `body:{workspaceId}/{canonical path}`; the path is canonicalized first.
 *
 * @throws {@link DocIdError}: `bad_doc_id` (workspace id), `bad_path` (path), `doc_id_too_long`
 * (over 255 UTF-8 bytes).
 */
export function bodyDocId(workspaceId: string, path: string): string {
  checkWorkspaceId(workspaceId);
  let canonical: string;
  try {
    canonical = normalizePath(path);
  } catch (error) {
    throw new DocIdError('bad_path', messageOf(error));
  }
  return checkLength(`${BODY_DOC_PREFIX}${workspaceId}/${canonical}`);
}

/**
 * `body:{workspaceId}/`: the prefix of every body doc id of a workspace (to list or filter them;
 * the workspace id is not checked).
 */
export function bodyDocIdPrefix(workspaceId: string): string {
  return `${BODY_DOC_PREFIX}${workspaceId}/`;
}

/**
 * Parses and validates a doc id as received on the wire or read back. The path of a body doc id
 * must already be canonical.
 *
 * @throws {@link DocIdError}: `doc_id_too_long` over 255 UTF-8 bytes, `unsafe_path` for a body doc
 * id whose path breaks the rules for new names, `bad_doc_id` otherwise.
 */
export function parseDocId(docId: string): ParsedDocId {
  if (typeof docId !== 'string') throw new DocIdError('bad_doc_id', 'doc id: not a string');
  checkLength(docId);
  if (docId.startsWith(WORKSPACE_DOC_PREFIX)) {
    const workspaceId = docId.slice(WORKSPACE_DOC_PREFIX.length);
    checkWorkspaceId(workspaceId);
    return { kind: 'workspace', workspaceId };
  }
  if (docId.startsWith(BODY_DOC_PREFIX)) {
    const rest = docId.slice(BODY_DOC_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash < 0) throw new DocIdError('bad_doc_id', 'body doc id without a path');
    const workspaceId = rest.slice(0, slash);
    checkWorkspaceId(workspaceId);
    const path = rest.slice(slash + 1);
    let canonical: string;
    try {
      canonical = normalizePath(path);
    } catch (error) {
      throw new DocIdError('bad_doc_id', `body doc id: ${messageOf(error)}`);
    }
    if (canonical !== path) throw new DocIdError('bad_doc_id', 'body doc id: path is not canonical');
    checkSafePath(path);
    return { kind: 'body', workspaceId, path };
  }
  throw new DocIdError('bad_doc_id', 'doc id must start with "workspace:" or "body:"');
}

/** True when {@link parseDocId} accepts `docId`. */
export function isDocId(docId: string): boolean {
  try {
    parseDocId(docId);
    return true;
  } catch {
    return false;
  }
}

/** Formats a parsed doc id back into its wire form (inverse of {@link parseDocId}). */
export function formatDocId(parsed: ParsedDocId): string {
  return parsed.kind === 'workspace'
    ? workspaceDocId(parsed.workspaceId)
    : bodyDocId(parsed.workspaceId, parsed.path);
}
