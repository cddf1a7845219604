/**
 * Frontmatter links (`part_of`, `contents`, `attachments`): parsing the accepted formats into
 * workspace-relative paths and formatting them as `[Title](/path)`.
 */
import { normalizePath, parentDir, tryNormalizePath } from './paths';

/** A parsed link: its title (if written as a markdown link) and its raw target. */
export interface ParsedLink {
  /** Link text of `[Title](…)`, or null for a plain link. */
  title: string | null;
  /** The raw target (percent-decoded unless written in `<…>`). */
  target: string;
  /** True when the target was written inside `<…>`. */
  angle: boolean;
}

const MD_LINK = /^\[((?:[^\]\\]|\\.)*)\]\((.*)\)$/s;

/** Splits `[Title](target)`, `[Title](<target>)` or a plain `target`. */
export function parseLink(text: string): ParsedLink {
  const s = text.trim();
  const m = MD_LINK.exec(s);
  if (!m) return { title: null, target: s, angle: false };
  const title = m[1].replace(/\\(.)/g, '$1');
  let target = m[2].trim();
  if (target.startsWith('<') && target.endsWith('>'))
    return { title, target: target.slice(1, -1), angle: true };
  if (/%[0-9A-Fa-f]{2}/.test(target)) {
    try {
      target = decodeURIComponent(target);
    } catch {
      /* keep as written */
    }
  }
  return { title, target, angle: false };
}

/** Resolves `.`/`..` segments of a `/`-joined path; `null` when it escapes the workspace. */
function resolveDots(path: string): string | null {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(seg);
  }
  return out.length === 0 ? null : out.join('/');
}

/**
 * Canonicalizes a link found in the file at `fromPath` to a workspace-relative path:
 * `/x` is workspace-root, `./x` and `../x` are relative to the file's folder; a plain `a/b.md`
 * is resolved relative to the folder first and at the root second, preferring whichever exists
 * in `known` (without a hint: relative for a bare file name, root for a path with folders).
 * Returns `null` for an unusable link (empty, escapes the workspace, invalid characters).
 */
export function canonicalizeLink(link: string, fromPath: string, known?: ReadonlySet<string>): string | null {
  const { target: raw } = parseLink(link);
  const target = raw.replace(/\\/g, '/');
  if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) return null;
  const dir = parentDir(fromPath);
  const rel = (): string | null => resolveDots(dir === '' ? target : `${dir}/${target}`);
  let resolved: string | null;
  if (target.startsWith('/')) resolved = resolveDots(target);
  else if (target.startsWith('./') || target.startsWith('../')) resolved = rel();
  else {
    const r = rel();
    const root = resolveDots(target);
    if (known && r !== null && known.has(r)) resolved = r;
    else if (known && root !== null && known.has(root)) resolved = root;
    else resolved = target.includes('/') ? root : r;
  }
  return resolved === null ? null : tryNormalizePath(resolved);
}

/** Formats a workspace-root link: `[Title](/path)`, or `[Title](</path>)` when needed. */
export function formatLink(title: string, path: string): string {
  const p = `/${normalizePath(path)}`;
  const t = title.replace(/[\\\]]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
  if (/^[^\s()<>%]*$/.test(p)) return `[${t}](${p})`;
  if (!/[<>\r\n]/.test(p)) return `[${t}](<${p}>)`;
  return `[${t}](${encodeURI(p).replace(/[()]/g, (c) => (c === '(' ? '%28' : '%29'))})`;
}
