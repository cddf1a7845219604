/**
 * Zip export/import of a workspace's markdown files (jszip). Import refuses hostile archives
 * before anything changes: absolute paths, `..` (zip-slip), drive letters, control characters,
 * oversize entries and zip bombs (sizes are counted while inflating, not trusted from headers).
 */
import JSZip from 'jszip';
import { PassThrough, type Readable } from 'node:stream';
import type { RepoFile } from '../git/tree-builder';
import { DEFAULT_ZIP_LIMITS, ZipImportError, type ZipLimits } from './zip-limits';

/** Streams a zip of `files` (deterministic dates so equal workspaces give equal zips). */
export function workspaceZipStream(files: RepoFile[]): Readable {
  const zip = new JSZip();
  const date = new Date('2000-01-01T00:00:00Z');
  for (const f of files) zip.file(f.path, f.content, { date, createFolders: false });
  const out = new PassThrough();
  const source = zip.generateNodeStream({ type: 'nodebuffer', streamFiles: true, compression: 'DEFLATE' });
  source.on('error', (err: Error) => out.destroy(err));
  source.pipe(out);
  return out;
}

/** Validates one entry name; returns the workspace path or throws {@link ZipImportError}. */
export function checkZipEntryPath(raw: string): string {
  const name = raw;
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw new ZipImportError('unsafe_path', `control character in ${JSON.stringify(raw)}`);
  if (name.includes('\\')) throw new ZipImportError('unsafe_path', `backslash in ${JSON.stringify(raw)}`);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name))
    throw new ZipImportError('unsafe_path', `absolute path ${JSON.stringify(raw)}`);
  const parts = name.split('/');
  if (parts.some((p) => p === '..'))
    throw new ZipImportError('unsafe_path', `path escapes the workspace: ${JSON.stringify(raw)}`);
  const clean = parts.filter((p) => p !== '' && p !== '.');
  if (clean.length === 0) throw new ZipImportError('unsafe_path', `empty path ${JSON.stringify(raw)}`);
  return clean.join('/');
}

const ignored = (path: string) => path.split('/').some((p) => p.startsWith('.') || p === '__MACOSX');

/**
 * Reads the markdown files (`*.md`) of a zip. Directories, dotfiles and `__MACOSX` are skipped;
 * other file types are refused. Throws {@link ZipImportError}; never writes anything.
 */
export async function readWorkspaceZip(data: Buffer, limits: Partial<ZipLimits> = {}): Promise<RepoFile[]> {
  const lim = { ...DEFAULT_ZIP_LIMITS, ...limits };
  if (data.length > lim.maxZipBytes)
    throw new ZipImportError('too_large', `zip is larger than ${lim.maxZipBytes} bytes`);
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(data, { createFolders: false, checkCRC32: true });
  } catch (err) {
    throw new ZipImportError('invalid_zip', `not a readable zip: ${(err as Error).message}`);
  }
  const entries = Object.values(zip.files);
  // Check every name first so that nothing is inflated from a hostile archive.
  const plan: { path: string; entry: JSZip.JSZipObject }[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const path = checkZipEntryPath(entry.unsafeOriginalName ?? entry.name);
    if (entry.dir || ignored(path)) continue;
    if (!path.toLowerCase().endsWith('.md'))
      throw new ZipImportError('invalid_file', `not a markdown file: ${path}`);
    if (seen.has(path)) throw new ZipImportError('invalid_file', `duplicate path ${path}`);
    seen.add(path);
    plan.push({ path, entry });
  }
  if (plan.length > lim.maxFiles)
    throw new ZipImportError('too_many_files', `more than ${lim.maxFiles} files`);
  let total = 0;
  const files: RepoFile[] = [];
  for (const { path, entry } of plan) {
    const chunks: Buffer[] = [];
    let size = 0;
    await new Promise<void>((resolve, reject) => {
      const stream = entry.nodeStream('nodebuffer');
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        total += chunk.length;
        if (size > lim.maxFileBytes || total > lim.maxTotalBytes) {
          (stream as unknown as { pause(): void }).pause();
          reject(
            new ZipImportError(
              'too_large',
              size > lim.maxFileBytes
                ? `${path} is larger than ${lim.maxFileBytes} bytes`
                : `zip content is larger than ${lim.maxTotalBytes} bytes`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', (err: Error) =>
        reject(new ZipImportError('invalid_zip', `${path}: ${err.message}`)),
      );
      stream.on('end', () => resolve());
    });
    const content = Buffer.concat(chunks);
    if (!isUtf8(content)) throw new ZipImportError('invalid_file', `${path} is not UTF-8 text`);
    files.push({ path, content: content.toString('utf8') });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isUtf8(buf: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}
