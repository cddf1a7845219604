import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { MarkdownFile } from '@diaryx-sync/crdt';
import { CliError } from './cli-error';
import { ExitCode } from './exit-codes';

/** Directories never scanned. */
const SKIP_DIRS = new Set(['.git', 'node_modules', '.diaryx-sync']);

/** Converts a workspace path (`a/b.md`) to an absolute file path inside `root`. */
export function toFilePath(root: string, workspacePath: string): string {
  return path.join(root, ...workspacePath.split('/'));
}

/** Converts a file path inside `root` to a workspace path (`/`-separated). */
export function toWorkspacePath(root: string, filePath: string): string {
  return path.relative(root, filePath).split(path.sep).join('/');
}

/** Whether a workspace path is one the CLI syncs (markdown, not hidden, not a temp file). */
export function isSyncedFile(workspacePath: string): boolean {
  if (!workspacePath.toLowerCase().endsWith('.md')) return false;
  return !workspacePath.split('/').some((seg) => seg.startsWith('.') || SKIP_DIRS.has(seg));
}

/** Every markdown file under `root` (hidden folders, `.git` and `node_modules` skipped), sorted. */
export async function readMarkdownFolder(root: string): Promise<MarkdownFile[]> {
  const out: MarkdownFile[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.') || SKIP_DIRS.has(e.name)) continue;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) await walk(abs);
      else if (e.isFile() && isSyncedFile(toWorkspacePath(root, abs))) {
        out.push({ path: toWorkspacePath(root, abs), content: await fs.readFile(abs, 'utf8') });
      }
    }
  }
  await walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Reads one file; `undefined` when it does not exist. */
export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes a file atomically (temp file + rename), creating parent folders. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, content, 'utf8');
  await fs.rename(tmp, file);
}

/**
 * Replaces `file` with `content` (temp file + rename) only if it still holds `expected`
 * (`undefined`: does not exist). The check runs after the temp file is written, right before the
 * rename, so an edit saved meanwhile is not overwritten. Returns false (nothing written) when the
 * file changed.
 */
export async function replaceFileIfUnchanged(
  file: string,
  expected: string | undefined,
  content: string,
): Promise<boolean> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(tmp, content, 'utf8');
  if ((await readFileIfExists(file)) !== expected) {
    await fs.rm(tmp, { force: true });
    return false;
  }
  await fs.rename(tmp, file);
  return true;
}

/** Deletes a file (missing is fine) and then its parent folders while they are empty (never `root`). */
export async function removeFileAndEmptyParents(root: string, file: string): Promise<void> {
  await fs.rm(file, { force: true });
  let dir = path.dirname(file);
  const top = path.resolve(root);
  while (path.resolve(dir) !== top && path.resolve(dir).startsWith(top)) {
    try {
      await fs.rmdir(dir);
    } catch {
      return;
    }
    dir = path.dirname(dir);
  }
}

/** Why a folder check failed, as a sentence a user can act on. */
function folderProblem(dir: string, what: 'create' | 'read' | 'write', err: unknown): CliError {
  const code = (err as { code?: unknown } | null)?.code;
  const reason =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'ENOTDIR'
          ? 'a parent is not a folder'
          : typeof code === 'string'
            ? code
            : String(err);
  const verb = what === 'write' ? 'write to' : what;
  return new CliError(ExitCode.LocalError, `cannot ${verb} folder ${dir} (${reason})`);
}

/**
 * Checks the local folder before anything is synced, so that a problem is reported up front and
 * not after a full download: `read` (push) needs an existing, readable folder; `write` (pull,
 * start) creates it when missing and proves it writable by creating and removing a probe file
 * (permission bits alone do not tell, e.g. for root or a read-only mount).
 *
 * @throws {@link CliError} with {@link ExitCode.LocalError}.
 */
export async function ensureFolder(dir: string, access: 'read' | 'write'): Promise<void> {
  if (access === 'write') {
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (err) {
      throw folderProblem(dir, 'create', err);
    }
  }
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT')
      throw new CliError(ExitCode.LocalError, `folder not found: ${dir}`);
    throw folderProblem(dir, 'read', err);
  }
  if (!stat.isDirectory()) throw new CliError(ExitCode.LocalError, `${dir} is not a folder`);
  try {
    await fs.readdir(dir);
  } catch (err) {
    throw folderProblem(dir, 'read', err);
  }
  if (access === 'write') {
    const probe = path.join(dir, `.diaryx-sync-probe-${process.pid}-${Date.now()}`);
    try {
      await fs.writeFile(probe, '');
      await fs.unlink(probe);
    } catch (err) {
      throw folderProblem(dir, 'write', err);
    }
  }
}
