import { isDeepStrictEqual } from 'node:util';
import type { FileMetadata } from '@diaryx-sync/crdt';

/** The frontmatter fields merged one by one (everything a markdown file can set). */
const MERGED_FIELDS = ['title', 'part_of', 'contents', 'attachments', 'audience', 'description'] as const;

/**
 * Field-level three-way merge of frontmatter metadata: every field the local side changed
 * (`base` → `local`, extra keys one by one) is set on `current` (the workspace's value, which may
 * hold remote changes); fields the local side did not change keep `current`'s value (last writer
 * wins per field, and a local change the server never saw is never dropped). `modified_at` is
 * taken from `local` only when the local side changed it (the frontmatter `updated`).
 *
 * @returns the merged metadata, or `undefined` when the local side changed no field.
 */
export function mergeLocalMetadata(
  base: FileMetadata,
  local: FileMetadata,
  current: FileMetadata,
): FileMetadata | undefined {
  const merged: FileMetadata = { ...current, extra: { ...current.extra } };
  let changed = false;
  for (const field of MERGED_FIELDS) {
    if (isDeepStrictEqual(base[field], local[field])) continue;
    (merged as unknown as Record<string, unknown>)[field] = local[field];
    changed = true;
  }
  const keys = new Set([...Object.keys(base.extra), ...Object.keys(local.extra)]);
  for (const key of keys) {
    if (isDeepStrictEqual(base.extra[key], local.extra[key])) continue;
    if (key in local.extra) merged.extra[key] = local.extra[key];
    else delete merged.extra[key];
    changed = true;
  }
  if (base.modified_at !== local.modified_at) {
    merged.modified_at = local.modified_at;
    changed = true;
  }
  return changed ? merged : undefined;
}
