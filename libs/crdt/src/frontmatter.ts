/**
 * Conversion between YAML frontmatter objects and {@link FileMetadata}, and splitting a
 * markdown file into frontmatter and body.
 */
import { parse as parseYaml } from 'yaml';
import { toBinaryRef, type BinaryRef, type FileMetadata } from './file-metadata';
import { canonicalizeLink } from './links';
import { baseName } from './paths';

/** Frontmatter keys with a meaning of their own; every other key goes to `extra`. */
export const KNOWN_FRONTMATTER_KEYS = [
  'title',
  'part_of',
  'contents',
  'audience',
  'description',
  'attachments',
  'updated',
] as const;

const KNOWN = new Set<string>(KNOWN_FRONTMATTER_KEYS);

/**
 * Reads an `updated` value as ms since epoch: a number (ms), a numeric string, or an RFC3339 /
 * ISO 8601 string (a date-time without an offset is taken as UTC). `null` when it is none of these.
 */
export function parseUpdated(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value !== 'string') return null;
  const s = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.trunc(Number(s));
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return null;
  // A date-time without an offset is read as UTC (never as the machine's local time).
  const hasTime = /^\d{4}-\d{2}-\d{2}[Tt ]\d/.test(s);
  const hasZone = /([Zz]|[+-]\d{2}(:?\d{2})?)$/.test(s);
  const ms = Date.parse(hasTime && !hasZone ? `${s.replace(' ', 'T')}Z` : s);
  return Number.isNaN(ms) ? null : ms;
}

/** Formats ms since epoch as RFC3339 with milliseconds and `Z` (`2024-01-02T03:04:05.006Z`). */
export function formatUpdated(ms: number): string {
  return new Date(ms).toISOString();
}

/** Error for a markdown file whose frontmatter is not valid YAML (or not a mapping). */
export class FrontmatterError extends Error {
  /** Always `FrontmatterError`. */
  override readonly name = 'FrontmatterError';
}

/** A markdown file split into its frontmatter object and its body. */
export interface SplitMarkdown {
  /** The parsed YAML mapping (empty when there is no frontmatter). */
  frontmatter: Record<string, unknown>;
  /** Everything after the frontmatter block and its blank line. */
  body: string;
}

/**
 * Splits `---\n{yaml}\n---\n\n{body}` (also with CRLF). Exactly one blank line after the closing
 * fence belongs to the format. A file without frontmatter is all body.
 *
 * @throws {@link FrontmatterError} when the YAML is invalid or not a mapping.
 */
export function splitFrontmatter(content: string): SplitMarkdown {
  const open = /^---\r?\n/.exec(content);
  if (!open) return { frontmatter: {}, body: content };
  const rest = content.slice(open[0].length);
  const close = /^---[ \t]*(\r?\n|$)/m.exec(rest);
  if (!close) return { frontmatter: {}, body: content };
  const yamlText = rest.slice(0, close.index);
  let body = rest.slice(close.index + close[0].length);
  if (body.startsWith('\r\n')) body = body.slice(2);
  else if (body.startsWith('\n')) body = body.slice(1);
  let parsed: unknown;
  try {
    parsed = yamlText.trim() === '' ? {} : parseYaml(yamlText);
  } catch (err) {
    throw new FrontmatterError(`invalid YAML frontmatter: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) parsed = {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new FrontmatterError('frontmatter is not a mapping');
  }
  return { frontmatter: parsed as Record<string, unknown>, body };
}

/** Options of {@link frontmatterToMetadata}. */
export interface FrontmatterToMetadataOptions {
  /** The file's workspace-relative path (links are resolved against it). */
  path: string;
  /** Every path of the workspace, to resolve ambiguous plain links. */
  knownPaths?: ReadonlySet<string>;
}

function linkList(value: unknown): unknown[] | null {
  if (value === null || value === undefined) return null;
  return Array.isArray(value) ? value : [value];
}

/**
 * Converts a frontmatter object into {@link FileMetadata}: links canonicalized to
 * workspace-relative paths, `updated` read into `modified_at` (0 when absent), unknown keys kept
 * in `extra`.
 */
export function frontmatterToMetadata(
  fm: Record<string, unknown>,
  opts: FrontmatterToMetadataOptions = { path: '' },
): FileMetadata {
  const canon = (v: unknown): string | null =>
    typeof v === 'string' ? canonicalizeLink(v, opts.path, opts.knownPaths) : null;
  const contents = linkList(fm.contents);
  const audience = linkList(fm.audience);
  const attachments = linkList(fm.attachments);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fm)) if (!KNOWN.has(k)) extra[k] = v;
  return {
    filename: baseName(opts.path),
    title:
      typeof fm.title === 'string'
        ? fm.title
        : fm.title === null || fm.title === undefined
          ? null
          : String(fm.title),
    part_of: canon(fm.part_of),
    contents: contents === null ? null : contents.map(canon).filter((x): x is string => x !== null),
    attachments: (attachments ?? [])
      .map((a) => attachmentFromFrontmatter(a, opts))
      .filter((x): x is BinaryRef => x !== null),
    deleted: false,
    audience: audience === null ? null : audience.map((a) => String(a)),
    description:
      typeof fm.description === 'string'
        ? fm.description
        : fm.description == null
          ? null
          : String(fm.description),
    extra,
    modified_at: parseUpdated(fm.updated) ?? 0,
  };
}

function attachmentFromFrontmatter(value: unknown, opts: FrontmatterToMetadataOptions): BinaryRef | null {
  if (typeof value === 'string') {
    const path = canonicalizeLink(value, opts.path, opts.knownPaths);
    return path === null ? null : toBinaryRef(path);
  }
  const ref = toBinaryRef(value);
  if (!ref) return null;
  const path = canonicalizeLink(ref.path, opts.path, opts.knownPaths);
  return path === null ? null : { ...ref, path };
}

/** Title used in a link to a file: its title, else its file name without `.md`. */
export function linkTitle(path: string, meta: FileMetadata | undefined): string {
  if (meta?.title) return meta.title;
  return baseName(path).replace(/\.md$/i, '');
}
