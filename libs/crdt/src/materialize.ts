/**
 * Materialize a workspace to markdown files with YAML frontmatter, and parse them back
 * (the exact inverse).
 */
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { FileMetadata } from './file-metadata';
import {
  formatUpdated,
  frontmatterToMetadata,
  FrontmatterError,
  KNOWN_FRONTMATTER_KEYS,
  linkTitle,
  splitFrontmatter,
} from './frontmatter';
import { formatLink } from './links';
import { isTempFile, normalizePath, tryNormalizePath } from './paths';
import { isDocIdKey, type WorkspaceCrdt } from './workspace-crdt';

/** A markdown file: workspace-relative path and full text. */
export interface MarkdownFile {
  /** Workspace-relative path. */
  path: string;
  /** Full file text (frontmatter + body). */
  content: string;
}

/**
 * Body text per file: a map keyed by path (or by key in doc-id mode), something with a
 * `get(path)` returning a body doc (e.g. a `BodyDocManager`), a plain object keyed by path, or a
 * function. A missing body is materialized as empty.
 */
export type BodySource =
  | ReadonlyMap<string, string | { getBody(): string }>
  | { get(path: string): { getBody(): string } | undefined }
  | Readonly<Record<string, string | { getBody(): string }>>
  | ((path: string, key: string) => string | undefined);

type BodyValue = string | { getBody(): string } | undefined;

/** Reads one body from a {@link BodySource} (path first, then key; `''` when missing). */
export function readBody(bodies: BodySource, path: string, key: string = path): string {
  if (typeof bodies === 'function') return bodies(path, key) ?? '';
  let v: BodyValue;
  if (typeof (bodies as { get?: unknown }).get === 'function') {
    const g = bodies as { get(p: string): BodyValue };
    v = g.get(path) ?? g.get(key);
  } else {
    const rec = bodies as Readonly<Record<string, BodyValue>>;
    const own = (k: string): BodyValue => (Object.prototype.hasOwnProperty.call(rec, k) ? rec[k] : undefined);
    v = own(path) ?? own(key);
  }
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : v.getBody();
}

/** Resolves a link value stored in metadata (a path or a doc id) to a path. */
export type LinkResolver = (link: string) => { path: string; meta: FileMetadata | undefined } | null;

const KNOWN = new Set<string>(KNOWN_FRONTMATTER_KEYS);

/** Resolver used without workspace context: links are paths, titles come from file names. */
export const defaultLinkResolver: LinkResolver = (link) => {
  const path = tryNormalizePath(link);
  return path === null ? null : { path, meta: undefined };
};

/**
 * The frontmatter object of a file, in the canonical key order: `title`, `part_of`
 * (`[Title](/path)`), `contents` (`[]` when empty), `audience`, `description`, `attachments`,
 * `updated` (RFC3339, omitted when `modified_at` is 0), then `extra` keys sorted by name; keys
 * starting with `_` are dropped, null known fields omitted; deleted attachments are skipped.
 */
export function metadataToFrontmatter(
  meta: FileMetadata,
  resolve: LinkResolver = defaultLinkResolver,
): Record<string, unknown> {
  const fm: Record<string, unknown> = {};
  const link = (target: string): string | null => {
    const r = resolve(target);
    return r ? formatLink(linkTitle(r.path, r.meta), r.path) : null;
  };
  if (meta.title !== null) fm.title = meta.title;
  if (meta.part_of !== null) {
    const l = link(meta.part_of);
    if (l !== null) fm.part_of = l;
  }
  if (meta.contents !== null) fm.contents = meta.contents.map(link).filter((x): x is string => x !== null);
  if (meta.audience !== null) fm.audience = [...meta.audience];
  if (meta.description !== null) fm.description = meta.description;
  const attachments = meta.attachments.filter((a) => !a.deleted);
  if (attachments.length > 0) {
    fm.attachments = attachments.map((a) => {
      const path = tryNormalizePath(a.path);
      if (path === null) return a.path;
      const plain =
        a.source === 'local' && a.hash === '' && a.mime_type === '' && a.size === 0 && a.uploaded_at === null;
      if (plain) return formatLink(path.slice(path.lastIndexOf('/') + 1), path);
      return {
        path,
        source: a.source,
        hash: a.hash,
        mime_type: a.mime_type,
        size: a.size,
        uploaded_at: a.uploaded_at,
      };
    });
  }
  if (meta.modified_at > 0) fm.updated = formatUpdated(meta.modified_at);
  for (const key of Object.keys(meta.extra).sort()) {
    if (key.startsWith('_') || KNOWN.has(key)) continue;
    const v = meta.extra[key];
    if (v !== undefined) fm[key] = v;
  }
  return fm;
}

/**
 * Renders one file: `---\n{yaml}\n---\n\n{body}`; the body alone when the YAML is empty (unless
 * the body itself starts with a fence, then an empty `{}` frontmatter keeps parsing exact).
 */
export function renderMarkdown(frontmatter: Record<string, unknown>, body: string): string {
  if (Object.keys(frontmatter).length === 0) {
    return /^---\r?\n/.test(body) ? `---\n{}\n---\n\n${body}` : body;
  }
  const yaml = stringifyFrontmatter(frontmatter);
  return `---\n${yaml}\n---\n\n${body}`;
}

/**
 * YAML text of a frontmatter object (no trailing newline). Block scalars are used for readability
 * unless they would not parse back to the same value (a known `yaml` edge case with
 * whitespace-only lines); then double-quoted scalars are used.
 */
export function stringifyFrontmatter(frontmatter: Record<string, unknown>): string {
  const pretty = stringifyYaml(frontmatter, { lineWidth: 0, minContentWidth: 0 });
  // Only multi-line strings become block scalars; verify those by parsing back.
  let exact = !hasMultilineString(frontmatter);
  if (!exact) {
    try {
      exact = sameJson(parseYaml(pretty), frontmatter);
    } catch {
      exact = false;
    }
  }
  const text = exact
    ? pretty
    : stringifyYaml(frontmatter, { lineWidth: 0, minContentWidth: 0, blockQuote: false });
  return text.replace(/\n$/, '');
}

function hasMultilineString(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\n') || v.includes('\r');
  if (Array.isArray(v)) return v.some(hasMultilineString);
  if (v !== null && typeof v === 'object') return Object.values(v).some(hasMultilineString);
  return false;
}

/**
 * Materializes every live file of the workspace as markdown, sorted by path. Tombstoned files,
 * temp files and doc-id entries whose path cannot be resolved are skipped.
 */
export function materializeWorkspace(workspace: WorkspaceCrdt, bodies: BodySource): MarkdownFile[] {
  const entries = workspace.entries();
  const pathOf = new Map<string, string>();
  for (const key of entries.keys()) {
    const p = isDocIdKey(key) ? workspace.getPath(key) : key;
    if (p !== undefined) pathOf.set(key, p);
  }
  const resolve: LinkResolver = (link) => {
    const key = isDocIdKey(link) ? link : tryNormalizePath(link);
    if (key === null) return null;
    const path = pathOf.get(key) ?? (isDocIdKey(key) ? undefined : key);
    return path === undefined ? null : { path, meta: entries.get(key) };
  };
  const bodyOf = (path: string, key: string): string => readBody(bodies, path, key);
  const out: MarkdownFile[] = [];
  for (const file of workspace.listFiles()) {
    if (isTempFile(file.path)) continue;
    const fm = metadataToFrontmatter(file.metadata, resolve);
    out.push({ path: file.path, content: renderMarkdown(fm, bodyOf(file.path, file.key)) });
  }
  return out;
}

/** A problem found while parsing a markdown file (the file is then taken as body only). */
export interface ParseProblem {
  /** The file's path as given. */
  path: string;
  /** What is wrong. */
  message: string;
}

/** Result of {@link parseMarkdownFiles}. */
export interface ParsedWorkspace {
  /** Metadata per normalized path. */
  files: Map<string, FileMetadata>;
  /** Body per normalized path. */
  bodies: Map<string, string>;
  /** Files with invalid paths or frontmatter. */
  problems: ParseProblem[];
}

/**
 * Parses markdown files into metadata and bodies (the inverse of {@link materializeWorkspace}).
 * Only `.md` files are read; links are canonicalized against the set of parsed paths.
 */
export function parseMarkdownFiles(files: readonly MarkdownFile[]): ParsedWorkspace {
  const result: ParsedWorkspace = { files: new Map(), bodies: new Map(), problems: [] };
  const valid: { path: string; content: string }[] = [];
  for (const f of files) {
    const path = tryNormalizePath(f.path);
    if (path === null) {
      result.problems.push({ path: f.path, message: 'invalid path' });
      continue;
    }
    if (!path.toLowerCase().endsWith('.md') || isTempFile(path)) continue;
    valid.push({ path, content: f.content });
  }
  const known = new Set(valid.map((f) => f.path));
  for (const { path, content } of valid) {
    let split;
    try {
      split = splitFrontmatter(content);
    } catch (err) {
      if (!(err instanceof FrontmatterError)) throw err;
      result.problems.push({ path, message: err.message });
      split = { frontmatter: {}, body: content };
    }
    result.files.set(path, frontmatterToMetadata(split.frontmatter, { path, knownPaths: known }));
    result.bodies.set(path, split.body);
  }
  result.problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}

/** One parsed markdown file (see {@link parseMarkdownFile}). */
export interface ParsedMarkdownFile {
  /** Normalized path. */
  path: string;
  /** Metadata from the frontmatter (links resolved against the file's own folder). */
  metadata: FileMetadata;
  /** The body (everything after the frontmatter block). */
  body: string;
}

/**
 * Parses one markdown file. Plain links are resolved without knowing the other files; use
 * {@link parseMarkdownFiles} for a whole workspace.
 *
 * @throws {@link InvalidPathError} for an invalid path, {@link FrontmatterError} for invalid YAML.
 */
export function parseMarkdownFile(f: MarkdownFile): ParsedMarkdownFile {
  const path = normalizePath(f.path);
  const split = splitFrontmatter(f.content);
  return { path, metadata: frontmatterToMetadata(split.frontmatter, { path }), body: split.body };
}

/**
 * Deep equality of two YAML/JSON values (plain objects, arrays, strings, numbers, booleans, null,
 * and the Dates YAML may produce), key order ignored. Portable (no `node:util`).
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.prototype.hasOwnProperty.call(b, k) &&
      sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
