/**
 * The two key forms of a workspace doc (apps/cli/README.md, "Key forms"): path keys (the key is
 * the file's path) and doc-id keys (a UUID key; the path is walked from `filename` and
 * `part_of`). Files on disk always speak paths; these helpers translate metadata between a
 * file's frontmatter (links are paths) and a doc-id entry (links are keys).
 */
import { baseName, docIdFilename, type FileMetadata } from '@diaryx-sync/crdt';

/** `path`: keys are paths (the legacy form); `doc-id`: keys are UUIDs. */
export type KeyForm = 'path' | 'doc-id';

/**
 * The `filename` that puts a doc-id entry at `path` under its `part_of` parent: relative to the
 * parent's folder when the parent resolves and holds the path, `/path` (from the root) otherwise;
 * the whole path for a root file.
 */
export function pinnedFilename(
  path: string,
  partOf: string | null,
  pathOf: (key: string) => string | undefined,
): string {
  if (partOf === null) return path;
  const parentPath = pathOf(partOf);
  return parentPath === undefined ? `/${path}` : docIdFilename(path, parentPath);
}

/**
 * Doc-id metadata of the file at `path` from its frontmatter metadata (`meta`, links are paths):
 * `part_of` and `contents` become the keys of the files at those paths (`keys`: path → key;
 * unknown paths stay as they are), `filename` is set by {@link pinnedFilename}.
 */
export function docIdMetadata(
  path: string,
  meta: FileMetadata,
  keys: ReadonlyMap<string, string>,
): FileMetadata {
  const link = (p: string): string => keys.get(p) ?? p;
  const partOf = meta.part_of === null ? null : link(meta.part_of);
  const parentPath = meta.part_of !== null && keys.has(meta.part_of) ? meta.part_of : undefined;
  return {
    ...meta,
    filename: pinnedFilename(path, partOf, () => parentPath),
    part_of: partOf,
    contents: meta.contents === null ? null : meta.contents.map(link),
  };
}

/**
 * The frontmatter view of a doc-id entry at `path`: links as paths (keys that do not resolve stay
 * as they are) and `filename` the path's last segment, as `parseMarkdownFiles` gives it.
 */
export function pathMetadata(
  path: string,
  meta: FileMetadata,
  pathOf: (key: string) => string | undefined,
): FileMetadata {
  const link = (k: string): string => pathOf(k) ?? k;
  return {
    ...meta,
    filename: baseName(path),
    part_of: meta.part_of === null ? null : link(meta.part_of),
    contents: meta.contents === null ? null : meta.contents.map(link),
  };
}
