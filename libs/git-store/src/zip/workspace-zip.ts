/**
 * Zip export (jszip) and import (yauzl) of a workspace's markdown files. Import streams the
 * archive: the central directory is read one entry at a time and each entry is inflated on its
 * own, so memory stays bounded by one file whatever the archive holds. It refuses hostile
 * archives before anything changes: too many entries (from the end record, before any entry is
 * read), unsafe names (zip-slip, absolute paths, control and bidi characters, Windows reserved
 * names, over-long names, duplicates after Unicode NFC: the rules of `safePath`, docs/protocol.md#paths),
 * oversize entries and zip bombs (sizes are counted while inflating, not trusted from headers).
 */
import type JSZip from 'jszip';
import { stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import type * as yauzl from 'yauzl';
import { InvalidPathError, isAttachmentPath, normalizePath, safePath } from '@diaryx-sync/crdt';
import type { RepoFile } from '../git/tree-builder';
import { DEFAULT_ZIP_LIMITS, ZipImportError, type ZipLimits } from './zip-limits';

/**
 * jszip and yauzl, loaded on the first export or import: a gateway or history worker that
 * serves no snapshot does not hold them (about 1.5 MB of heap with pako).
 */
let zipLibs: { JSZip: typeof JSZip; yauzl: typeof yauzl } | undefined;
function zipLibraries(): { JSZip: typeof JSZip; yauzl: typeof yauzl } {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return (zipLibs ??= {
    JSZip: require('jszip') as typeof JSZip,
    yauzl: require('yauzl') as typeof yauzl,
  });
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** Streams a zip of `files` (deterministic dates so equal workspaces give equal zips). */
export function workspaceZipStream(files: RepoFile[]): Readable {
  const zip = new (zipLibraries().JSZip)();
  const date = new Date('2000-01-01T00:00:00Z');
  for (const f of files) zip.file(f.path, f.content, { date, createFolders: false });
  const out = new PassThrough();
  const source = zip.generateNodeStream({ type: 'nodebuffer', streamFiles: true, compression: 'DEFLATE' });
  source.on('error', (err: Error) => out.destroy(err));
  source.pipe(out);
  return out;
}

/**
 * Validates one entry name and returns its workspace path (safe and NFC, `safePath`); throws
 * {@link ZipImportError} `unsafe_path`. Backslashes and drive letters are refused too (a zip
 * always uses `/`).
 */
export function checkZipEntryPath(raw: string): string {
  return safeEntryPath(raw, basicEntryPath(raw));
}

/** A zip held in memory, or a file on disk (read in place, never loaded whole). */
export type ZipSource = Buffer | { file: string };

/** What {@link checkWorkspaceZip} found in an acceptable archive. */
export interface ZipSummary {
  /** Markdown files that would be imported. */
  files: number;
  /** Their uncompressed bytes. */
  bytes: number;
}

/**
 * Reads the markdown files (`*.md`, as text) and attachment files (any other safe name, as bytes)
 * of a zip. Directories, dotfiles and `__MACOSX` are skipped. Throws {@link ZipImportError}; never writes anything.
 */
export async function readWorkspaceZip(
  source: ZipSource,
  limits: Partial<ZipLimits> = {},
): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  await scanWorkspaceZip(source, limits, (path, content) => files.push({ path, content }));
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Checks a zip exactly as {@link readWorkspaceZip} does, keeping nothing but the names seen
 * (memory: one entry at a time plus the set of names, bounded by `maxFiles`).
 */
export async function checkWorkspaceZip(
  source: ZipSource,
  limits: Partial<ZipLimits> = {},
): Promise<ZipSummary> {
  return scanWorkspaceZip(source, limits, () => undefined);
}

async function scanWorkspaceZip(
  source: ZipSource,
  limits: Partial<ZipLimits>,
  onFile: (path: string, content: string | Uint8Array) => void,
): Promise<ZipSummary> {
  const lim = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const size = Buffer.isBuffer(source) ? source.length : (await stat(source.file)).size;
  if (size > lim.maxZipBytes)
    throw new ZipImportError('too_large', `zip is larger than ${lim.maxZipBytes} bytes`);
  const zip = await openZip(source);
  try {
    if (zip.entryCount > lim.maxEntries)
      throw new ZipImportError(
        'too_many_files',
        `the zip has ${zip.entryCount} entries (at most ${lim.maxEntries} are accepted)`,
      );
    const seen = new Set<string>();
    let total = 0;
    for (let entry = await nextEntry(zip); entry !== null; entry = await nextEntry(zip)) {
      const raw = entryName(entry);
      const basic = basicEntryPath(raw);
      if (raw.endsWith('/') || ignored(basic)) continue;
      const path = safeEntryPath(raw, basic);
      const markdown = path.toLowerCase().endsWith('.md');
      // Other files are attachments (docs/protocol.md#attachments), kept as bytes.
      if (!markdown && !isAttachmentPath(path))
        throw new ZipImportError('invalid_file', `not a markdown file or attachment: ${path}`);
      if (seen.has(path))
        throw new ZipImportError('unsafe_path', `two entries name the same file ${JSON.stringify(path)}`);
      seen.add(path);
      if (seen.size > lim.maxFiles)
        throw new ZipImportError('too_many_files', `more than ${lim.maxFiles} files`);
      // Declared sizes refuse early; the real bytes are counted while inflating.
      if (entry.uncompressedSize > lim.maxFileBytes)
        throw new ZipImportError('too_large', `${path} is larger than ${lim.maxFileBytes} bytes`);
      if (total + entry.uncompressedSize > lim.maxTotalBytes)
        throw new ZipImportError('too_large', `zip content is larger than ${lim.maxTotalBytes} bytes`);
      const content = await readEntry(
        zip,
        entry,
        path,
        Math.min(lim.maxFileBytes, lim.maxTotalBytes - total),
      );
      total += content.length;
      if (!markdown) {
        onFile(path, new Uint8Array(content));
        continue;
      }
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(content);
      } catch {
        throw new ZipImportError('invalid_file', `${path} is not UTF-8 text`);
      }
      onFile(path, text);
    }
    return { files: seen.size, bytes: total };
  } finally {
    zip.close();
  }
}

const OPEN_OPTIONS: yauzl.Options = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: false,
  validateEntrySizes: true,
};

async function openZip(source: ZipSource): Promise<yauzl.ZipFile> {
  try {
    return Buffer.isBuffer(source)
      ? await zipLibraries().yauzl.fromBufferPromise(source, OPEN_OPTIONS)
      : await zipLibraries().yauzl.openPromise(source.file, OPEN_OPTIONS);
  } catch (err) {
    throw new ZipImportError('invalid_zip', `not a readable zip: ${(err as Error).message}`);
  }
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const done = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => {
      done();
      resolve(entry);
    };
    const onEnd = () => {
      done();
      resolve(null);
    };
    const onError = (err: Error) => {
      done();
      reject(new ZipImportError('invalid_zip', `not a readable zip: ${err.message}`));
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/** Inflates one entry, refusing more than `max` bytes (counted, not trusted from the header). */
async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, path: string, max: number): Promise<Buffer> {
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw new ZipImportError('invalid_zip', `${path}: ${(err as Error).message}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw new ZipImportError('too_large', `${path} is larger than the import allows`);
      chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof ZipImportError) throw err;
    throw new ZipImportError('invalid_zip', `${path}: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks);
}

/**
 * The entry's name as extractors will show it: the Info-ZIP Unicode path or a name flagged UTF-8
 * as such; an unflagged name as UTF-8 when it is valid UTF-8 (what most tools do today, so a
 * bidi control cannot hide behind a missing flag), else as CP437 (the zip default).
 */
function entryName(entry: yauzl.Entry): string {
  const declared = zipLibraries().yauzl.getFileNameLowLevel(
    entry.generalPurposeBitFlag,
    entry.fileNameRaw,
    entry.extraFields,
    true,
  );
  if ((entry.generalPurposeBitFlag & 0x800) !== 0 || entry.extraFields.some((f) => f.id === 0x7075))
    return declared;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(entry.fileNameRaw);
  } catch {
    return declared;
  }
}

/** The structural checks every entry passes, skipped or not (no escape, no control characters). */
function basicEntryPath(raw: string): string {
  if (raw.includes('\\')) throw new ZipImportError('unsafe_path', `backslash in ${JSON.stringify(raw)}`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw))
    throw new ZipImportError('unsafe_path', `absolute path ${JSON.stringify(raw)}`);
  const parts = raw.split('/');
  if (parts.some((p) => p === '..'))
    throw new ZipImportError('unsafe_path', `path escapes the workspace: ${JSON.stringify(raw)}`);
  const clean = parts.filter((p) => p !== '' && p !== '.').join('/');
  try {
    return normalizePath(clean);
  } catch (err) {
    throw new ZipImportError('unsafe_path', err instanceof InvalidPathError ? err.message : 'invalid path');
  }
}

/** The `safePath` of an imported file (NFC; no bidi controls, reserved or over-long names). */
function safeEntryPath(raw: string, basic: string): string {
  try {
    return safePath(basic);
  } catch (err) {
    throw new ZipImportError(
      'unsafe_path',
      err instanceof InvalidPathError
        ? err.message.replace(JSON.stringify(basic), JSON.stringify(raw))
        : 'unsafe path',
    );
  }
}

const ignored = (path: string) => path.split('/').some((p) => p.startsWith('.') || p === '__MACOSX');
