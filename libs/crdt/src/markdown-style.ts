/**
 * Writing a materialized file over the author's own copy without reformatting it.
 *
 * `materializeWorkspace` renders every file in one canonical form (key order, block lists,
 * RFC3339 `updated`, LF). A folder that round-trips through the service must come back
 * byte-identical when nobody changed it, and a remote change must touch only what changed. So a
 * client that already has a copy of the file on disk calls {@link restyleMarkdown}:
 *
 * - the two texts mean the same (same body, same metadata; `updated` alone does not count, it is
 *   stamped by the server when a file arrives without one) → the copy on disk is kept as it is;
 * - otherwise the copy's YAML document is edited with the `yaml` document API: keys whose value
 *   did not change keep their node (flow or block style, quoting, comments), changed keys get the
 *   new value, removed keys are deleted, new keys are appended; the body is the new one; CRLF
 *   files stay CRLF.
 *
 * The result is checked by parsing it back: when it does not mean exactly what the canonical
 * text means, the canonical text is returned. Keys starting with `_` are never synced (see
 * `metadataToFrontmatter`) and are kept from the copy on disk.
 */
import { equalityDeep } from 'lib0/function';
import { parseDocument } from 'yaml';
import type { FileMetadata } from './file-metadata';
import {
  frontmatterToMetadata,
  KNOWN_FRONTMATTER_KEYS,
  splitFrontmatter,
  FrontmatterError,
} from './frontmatter';

/** Where the file lives, to resolve its links the same way on both sides. */
export interface RestyleContext {
  /** The file's workspace-relative path. */
  path: string;
  /** Every live path of the workspace (resolves plain links). */
  knownPaths?: ReadonlySet<string>;
}

/** Raw parts of a markdown file with frontmatter. */
interface FencedFile {
  yamlText: string;
  newline: '\n' | '\r\n';
  /** Whether a blank line separates the closing fence from the body. */
  blankLine: boolean;
}

const FENCED = /^---(\r?\n)([\s\S]*?)^---[ \t]*(\r?\n|$)/m;

function fenced(content: string): FencedFile | null {
  const m = FENCED.exec(content);
  if (!m || m.index !== 0) return null;
  const rest = content.slice(m[0].length);
  return {
    yamlText: m[2] ?? '',
    newline: m[1] === '\r\n' ? '\r\n' : '\n',
    blankLine: rest.startsWith('\n') || rest.startsWith('\r\n'),
  };
}

type Field = keyof FileMetadata;
/** The metadata field that each known frontmatter key feeds. */
const FIELD_OF_KEY: Record<(typeof KNOWN_FRONTMATTER_KEYS)[number], Field> = {
  title: 'title',
  part_of: 'part_of',
  contents: 'contents',
  audience: 'audience',
  description: 'description',
  attachments: 'attachments',
  updated: 'modified_at',
};
const KNOWN = new Set<string>(KNOWN_FRONTMATTER_KEYS);

function synced(extra: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(extra).filter(([k]) => !k.startsWith('_')));
}

/** Whether the frontmatter key `key` means the same in both metadata. */
function sameKey(key: string, a: FileMetadata, b: FileMetadata): boolean {
  if (KNOWN.has(key)) {
    const field = FIELD_OF_KEY[key as keyof typeof FIELD_OF_KEY];
    return equalityDeep(a[field], b[field]);
  }
  return equalityDeep(a.extra[key], b.extra[key]);
}

function sameMeaning(a: FileMetadata, b: FileMetadata, ignoreUpdated: boolean): boolean {
  const fields: Field[] = ['title', 'part_of', 'contents', 'audience', 'description', 'attachments'];
  if (!ignoreUpdated) fields.push('modified_at');
  return fields.every((f) => equalityDeep(a[f], b[f])) && equalityDeep(synced(a.extra), synced(b.extra));
}

function parse(content: string, ctx: RestyleContext): { meta: FileMetadata; body: string } | null {
  try {
    const split = splitFrontmatter(content);
    return { meta: frontmatterToMetadata(split.frontmatter, ctx), body: split.body };
  } catch (err) {
    if (err instanceof FrontmatterError) return null;
    throw err;
  }
}

/**
 * The text to write for a file whose canonical rendering is `next`, given the author's copy
 * `previous` on disk (see the module comment). Returns `previous` itself when nothing but
 * `updated` differs.
 */
export function restyleMarkdown(previous: string, next: string, ctx: RestyleContext): string {
  if (previous === next) return previous;
  const before = parse(previous, ctx);
  const after = parse(next, ctx);
  if (before === null || after === null) return next;
  if (before.body === after.body && sameMeaning(before.meta, after.meta, true)) return previous;

  const old = fenced(previous);
  const canonical = fenced(next);
  if (old === null || canonical === null) return next;
  const doc = parseDocument(old.yamlText);
  const target = parseDocument(canonical.yamlText).toJS() as Record<string, unknown> | null;
  if (doc.errors.length > 0 || target === null || typeof target !== 'object') return next;

  for (const [key, value] of Object.entries(target)) {
    if (doc.has(key) && sameKey(key, before.meta, after.meta)) continue;
    doc.set(key, value);
  }
  const existing = doc.toJS() as Record<string, unknown> | null;
  for (const key of Object.keys(existing ?? {})) {
    if (!(key in target) && !key.startsWith('_')) doc.delete(key);
  }
  let yamlText = doc.toString({ lineWidth: 0, minContentWidth: 0, flowCollectionPadding: false });
  if (!yamlText.endsWith('\n')) yamlText += '\n';
  const nl = old.newline;
  if (nl === '\r\n') yamlText = yamlText.replace(/\r?\n/g, '\r\n');
  const out = `---${nl}${yamlText}---${nl}${old.blankLine ? nl : ''}${after.body}`;

  const check = parse(out, ctx);
  return check !== null && check.body === after.body && sameMeaning(check.meta, after.meta, false)
    ? out
    : next;
}
