/**
 * Attachments referenced by a workspace (docs/protocol.md#attachments): the live `BinaryRef`s of
 * live files. A ref with a `hash` (hex SHA-256) names bytes in the tenant's content-addressed
 * store; one without a hash has not been uploaded yet.
 */
import type { BinaryRef } from './file-metadata';
import { isSafePath } from './paths';
import type { WorkspaceCrdt } from './workspace-crdt';

/** One attachment reference: the file that references it and the ref. */
export interface AttachmentReference {
  /** Path of the markdown file whose `attachments` hold the ref. */
  file: string;
  ref: BinaryRef;
}

/** True for a lowercase hex SHA-256. */
export function isAttachmentHash(hash: string): boolean {
  return /^[0-9a-f]{64}$/.test(hash);
}

/**
 * Live refs of live files, sorted by attachment path; refs whose path is not a safe
 * workspace-relative path, or names a markdown file, are skipped (never written to disk).
 */
export function workspaceAttachments(workspace: WorkspaceCrdt): AttachmentReference[] {
  const out: AttachmentReference[] = [];
  for (const f of workspace.listFiles())
    for (const ref of f.metadata.attachments)
      if (!ref.deleted && isAttachmentPath(ref.path)) out.push({ file: f.path, ref });
  return out.sort((a, b) => (a.ref.path < b.ref.path ? -1 : a.ref.path > b.ref.path ? 1 : 0));
}

/**
 * The attachments to materialize, one per path: the last-sorted file's ref wins when two files
 * reference the same path with different hashes; refs without a hash are left out.
 */
export function attachmentFiles(workspace: WorkspaceCrdt): Map<string, BinaryRef> {
  const out = new Map<string, BinaryRef>();
  for (const { ref } of workspaceAttachments(workspace))
    if (isAttachmentHash(ref.hash)) out.set(ref.path, ref);
  return out;
}

/** True for a safe, canonical, non-markdown workspace-relative path. */
export function isAttachmentPath(path: string): boolean {
  return (
    isSafePath(path) && !path.toLowerCase().endsWith('.md') && !path.split('/').some((s) => s.startsWith('.'))
  );
}

const MIME_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  avif: 'image/avif',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
  zip: 'application/zip',
};

/** MIME type by file extension; `application/octet-stream` when unknown. */
export function mimeTypeOf(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  return MIME_TYPES[ext] ?? 'application/octet-stream';
}
