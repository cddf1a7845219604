/**
 * Wire doc ids (docs/protocol.md#names): `workspace:{workspaceId}` and `body:{workspaceId}/{path}`.
 */
import { normalizePath } from './paths';

/** Workspace ids: `[A-Za-z0-9_-]{1,64}`. */
export const WORKSPACE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A parsed doc id. */
export type ParsedDocId =
  { kind: 'workspace'; workspaceId: string } | { kind: 'body'; workspaceId: string; path: string };

/** The workspace doc id of a workspace: `workspace:{id}`. */
export function workspaceDocId(workspaceId: string): string {
  return `workspace:${workspaceId}`;
}

/** The body doc id of a file: `body:{workspaceId}/{normalized path}`. */
export function bodyDocId(workspaceId: string, path: string): string {
  return `body:${workspaceId}/${normalizePath(path)}`;
}

/**
 * Parses a doc id; `null` when it is not a canonical workspace or body doc id (bad workspace
 * id, non-canonical path, longer than 255 UTF-8 bytes).
 */
export function parseDocId(docId: string): ParsedDocId | null {
  if (typeof docId !== 'string' || new TextEncoder().encode(docId).length > 255) return null;
  if (docId.startsWith('workspace:')) {
    const ws = docId.slice('workspace:'.length);
    return WORKSPACE_ID_PATTERN.test(ws) ? { kind: 'workspace', workspaceId: ws } : null;
  }
  if (docId.startsWith('body:')) {
    const rest = docId.slice('body:'.length);
    const slash = rest.indexOf('/');
    if (slash < 0) return null;
    const ws = rest.slice(0, slash);
    const path = rest.slice(slash + 1);
    if (!WORKSPACE_ID_PATTERN.test(ws)) return null;
    try {
      if (normalizePath(path) !== path) return null;
    } catch {
      return null;
    }
    return { kind: 'body', workspaceId: ws, path };
  }
  return null;
}
