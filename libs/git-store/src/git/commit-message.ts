/** Human-readable commit messages: time and the files added/changed/removed. */
import type { TreeDiff } from './tree-builder';

const MAX_LISTED = 50;

function section(title: string, paths: string[]): string[] {
  if (paths.length === 0) return [];
  const shown = paths.slice(0, MAX_LISTED).map((p) => `  ${p}`);
  if (paths.length > MAX_LISTED) shown.push(`  … and ${paths.length - MAX_LISTED} more`);
  return [`${title}:`, ...shown];
}

/**
 * `Snapshot 2026-01-02T03:04:05Z: 2 added, 1 changed, 0 removed` followed by the file lists.
 * @param reason optional first-line suffix, e.g. `restore of abc1234`.
 */
export function buildCommitMessage(diff: TreeDiff, at: Date, reason?: string): string {
  const when = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const head =
    `${reason ? `${reason} ` : 'Snapshot '}${when}: ${diff.added.length} added, ` +
    `${diff.changed.length} changed, ${diff.removed.length} removed`;
  const body = [
    ...section('Added', diff.added),
    ...section('Changed', diff.changed),
    ...section('Removed', diff.removed),
  ];
  return body.length ? `${head}\n\n${body.join('\n')}\n` : `${head}\n`;
}
