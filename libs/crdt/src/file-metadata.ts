/**
 * `FileMetadata` and `BinaryRef`: the JSON values of the workspace `files` map (docs/protocol.md#names),
 * snake_case keys and `null` for absent values.
 */

/** A reference to a binary attachment of a file. */
export interface BinaryRef {
  /** Workspace-relative path of the attachment. */
  path: string;
  /** Where the bytes live (e.g. `local`, an S3 key, a URL). */
  source: string;
  /** Content hash (e.g. hex SHA-256); `''` when unknown. */
  hash: string;
  /** MIME type; `''` when unknown. */
  mime_type: string;
  /** Size in bytes. */
  size: number;
  /** Upload time in ms since epoch, or `null`. */
  uploaded_at: number | null;
  /** Tombstone flag. */
  deleted: boolean;
}

/** Metadata of one workspace file: the value (as a JSON string) of the `files` map. */
export interface FileMetadata {
  /** File name (last path segment), e.g. `note.md`. */
  filename: string;
  /** Title from frontmatter. */
  title: string | null;
  /** Parent index file (a workspace-relative path, or a doc id in doc-id mode). */
  part_of: string | null;
  /** Children (paths, or doc ids in doc-id mode); `null` for a non-index file. */
  contents: string[] | null;
  /** Binary attachments. */
  attachments: BinaryRef[];
  /** Tombstone flag: a deleted file keeps its key with `deleted: true`. */
  deleted: boolean;
  /** Audience tags. */
  audience: string[] | null;
  /** Description from frontmatter. */
  description: string | null;
  /** Unknown frontmatter keys, round-tripped unchanged. */
  extra: Record<string, unknown>;
  /** Last modification, ms since epoch. */
  modified_at: number;
}

/** Creates a `FileMetadata` with defaults for everything not given (`modified_at` = now). */
export function createFileMetadata(init?: Partial<FileMetadata> | null): FileMetadata {
  if (init === null || init === undefined) init = {};
  return {
    filename: init.filename ?? '',
    title: init.title ?? null,
    part_of: init.part_of ?? null,
    contents: init.contents ?? null,
    attachments: init.attachments ?? [],
    deleted: init.deleted ?? false,
    audience: init.audience ?? null,
    description: init.description ?? null,
    extra: init.extra ?? {},
    modified_at: init.modified_at ?? Date.now(),
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function strArray(v: unknown): string[] | null {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;
}
function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** Coerces an unknown JSON value into a {@link BinaryRef}; `null` when it has no `path`. */
export function toBinaryRef(v: unknown): BinaryRef | null {
  if (typeof v === 'string') {
    return { path: v, source: 'local', hash: '', mime_type: '', size: 0, uploaded_at: null, deleted: false };
  }
  if (!isRecord(v) || typeof v.path !== 'string') return null;
  return {
    path: v.path,
    source: str(v.source) ?? 'local',
    hash: str(v.hash) ?? '',
    mime_type: str(v.mime_type) ?? '',
    size: num(v.size) ?? 0,
    uploaded_at: num(v.uploaded_at),
    deleted: v.deleted === true,
  };
}

/**
 * Coerces an unknown JSON value (e.g. from a remote peer) into a well-formed {@link FileMetadata}.
 * Missing or mistyped fields get their defaults; never throws.
 */
export function toFileMetadata(v: unknown, fallbackFilename = ''): FileMetadata {
  const r = isRecord(v) ? v : {};
  return {
    filename: str(r.filename) ?? fallbackFilename,
    title: str(r.title),
    part_of: str(r.part_of),
    contents: strArray(r.contents),
    attachments: Array.isArray(r.attachments)
      ? r.attachments.map(toBinaryRef).filter((x): x is BinaryRef => x !== null)
      : [],
    deleted: r.deleted === true,
    audience: strArray(r.audience),
    description: str(r.description),
    extra: isRecord(r.extra) ? { ...r.extra } : {},
    modified_at: num(r.modified_at) ?? 0,
  };
}

/** Parses the JSON string stored in the `files` map; `null` when it is not valid JSON. */
export function parseFileMetadataJson(json: string, fallbackFilename = ''): FileMetadata | null {
  try {
    return toFileMetadata(JSON.parse(json) as unknown, fallbackFilename);
  } catch {
    return null;
  }
}

/** Serializes metadata as the JSON string stored in the `files` map (stable key order). */
export function serializeFileMetadata(meta: FileMetadata): string {
  const m = toFileMetadata(meta);
  return JSON.stringify({
    filename: m.filename,
    title: m.title,
    part_of: m.part_of,
    contents: m.contents,
    attachments: m.attachments,
    deleted: m.deleted,
    audience: m.audience,
    description: m.description,
    extra: m.extra,
    modified_at: m.modified_at,
  });
}
