/**
 * Attachment files beside the markdown (apps/cli/README.md#attachments): the non-markdown files a
 * markdown file lists in its `attachments` frontmatter. `push` hashes each one (SHA-256), uploads
 * bytes the server does not have yet (`HEAD` first) and records `hash`, `size` and `mime_type` in
 * the file's `BinaryRef`; `pull` downloads the referenced bytes whose local copy is missing or
 * differs. Bytes move over the HTTP API (docs/protocol.md#attachments), streamed both ways.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  isAttachmentHash,
  isAttachmentPath,
  mimeTypeOf,
  workspaceAttachments,
  type BinaryRef,
  type WorkspaceCrdt,
} from '@diaryx-sync/crdt';
import { CliError } from './cli-error';
import type { ConnectionOptions } from './connection-options';
import { ExitCode } from './exit-codes';
import { toFilePath } from './folder';

/** `BinaryRef.source` of bytes in the server's content-addressed store. */
export const ATTACHMENT_SOURCE = 'sha256';

/** What one attachment pass did. */
export interface AttachmentSummary {
  uploaded: number;
  downloaded: number;
  unchanged: number;
  /** Referenced files that are neither on disk (push) nor on the server (pull). */
  missing: string[];
}

async function sha256OfFile(file: string): Promise<{ hash: string; size: number } | null> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      size += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR')
      return null;
    throw err;
  }
  return { hash: hash.digest('hex'), size };
}

/** Moves attachment bytes between a folder and the server for one workspace. */
export class AttachmentSync {
  private readonly base: string;
  /** Hashes by path, reused while size and mtime are unchanged (`start` passes repeatedly). */
  private readonly hashes = new Map<string, { mtimeMs: number; size: number; hash: string }>();

  constructor(
    private readonly root: string,
    private readonly opts: Pick<ConnectionOptions, 'server' | 'workspace' | 'token'>,
  ) {
    const url = new URL(`/api/workspaces/${encodeURIComponent(opts.workspace)}/attachments`, opts.server);
    url.protocol = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:';
    this.base = url.toString();
  }

  /**
   * Uploads the referenced local files the server lacks and records their hash, size and MIME
   * type in the workspace doc (local updates, sent and saved with the rest of the push).
   */
  async push(workspace: WorkspaceCrdt): Promise<AttachmentSummary> {
    const summary: AttachmentSummary = { uploaded: 0, downloaded: 0, unchanged: 0, missing: [] };
    const hashed = new Map<string, { hash: string; size: number } | null>();
    for (const f of workspace.listFiles()) {
      let changed = false;
      const next: BinaryRef[] = [];
      for (const ref of f.metadata.attachments) {
        if (ref.deleted || !isAttachmentPath(ref.path)) {
          next.push(ref);
          continue;
        }
        if (!hashed.has(ref.path)) hashed.set(ref.path, await this.hashOf(ref.path));
        const local = hashed.get(ref.path) ?? null;
        if (local === null) {
          if (!isAttachmentHash(ref.hash)) summary.missing.push(ref.path);
          next.push(ref);
          continue;
        }
        if (ref.hash === local.hash && ref.size === local.size) {
          summary.unchanged++;
          next.push(ref);
          continue;
        }
        if (await this.upload(ref.path, local.hash, local.size)) summary.uploaded++;
        else summary.unchanged++;
        next.push({
          ...ref,
          source: ATTACHMENT_SOURCE,
          hash: local.hash,
          size: local.size,
          mime_type: mimeTypeOf(ref.path),
          uploaded_at: Date.now(),
        });
        changed = true;
      }
      if (changed) workspace.setFile(f.key, { attachments: next });
    }
    return summary;
  }

  /** Downloads every referenced attachment whose local file is missing or has other bytes. */
  async pull(workspace: WorkspaceCrdt): Promise<AttachmentSummary> {
    const summary: AttachmentSummary = { uploaded: 0, downloaded: 0, unchanged: 0, missing: [] };
    const done = new Set<string>();
    for (const { ref } of workspaceAttachments(workspace)) {
      if (!isAttachmentHash(ref.hash) || done.has(ref.path)) continue;
      done.add(ref.path);
      const file = toFilePath(this.root, ref.path);
      const local = await this.hashOf(ref.path);
      if (local?.hash === ref.hash) {
        summary.unchanged++;
        continue;
      }
      if (await this.download(ref.hash, file)) summary.downloaded++;
      else summary.missing.push(ref.path);
    }
    return summary;
  }

  /** SHA-256 and size of the local file at a workspace path, `null` when there is none. */
  private async hashOf(pathInWs: string): Promise<{ hash: string; size: number } | null> {
    const file = toFilePath(this.root, pathInWs);
    const st = await fs.stat(file).catch(() => null);
    if (st === null || !st.isFile()) return null;
    const cached = this.hashes.get(pathInWs);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached;
    const got = await sha256OfFile(file);
    if (got) this.hashes.set(pathInWs, { ...got, mtimeMs: st.mtimeMs });
    return got;
  }

  /** True when bytes were sent, false when the server already had them. */
  private async upload(pathInWs: string, hash: string, size: number): Promise<boolean> {
    const head = await this.request(`${this.base}/${hash}`, { method: 'HEAD' });
    if (head.status === 200) return false;
    const body = Readable.toWeb(
      createReadStream(toFilePath(this.root, pathInWs)),
    ) as unknown as ReadableStream;
    const res = await this.request(`${this.base}/${hash}?size=${size}`, {
      method: 'PUT',
      headers: { 'content-type': mimeTypeOf(pathInWs), 'content-length': String(size) },
      body,
      duplex: 'half',
    } as RequestInit);
    if (res.status !== 200) throw await this.failure(res, `upload of ${pathInWs}`);
    return true;
  }

  /** Streams the bytes into `file` (temp file + rename); false when the server has no such hash. */
  private async download(hash: string, file: string): Promise<boolean> {
    const res = await this.request(`${this.base}/${hash}`, { method: 'GET' });
    if (res.status === 404) return false;
    if (res.status !== 200 || res.body === null) throw await this.failure(res, `download of ${hash}`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.diaryx-sync-${process.pid}.tmp`;
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream), createWriteStream(tmp));
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    return true;
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    const source = this.opts.token;
    // A share's guest token is renewed by its provider (share-join.ts).
    const token = typeof source === 'function' ? await source() : source;
    try {
      return await fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
      });
    } catch (err) {
      throw new CliError(
        ExitCode.Unreachable,
        `cannot reach ${new URL(url).origin}: ${(err as Error).message}`,
      );
    }
  }

  private async failure(res: Response, what: string): Promise<CliError> {
    const body = (await res.json().catch(() => null)) as {
      error?: { code?: string; message?: string };
    } | null;
    const detail = body?.error?.message ?? `HTTP ${res.status}`;
    const code = res.status === 401 || res.status === 403 ? ExitCode.Unauthorized : ExitCode.Failure;
    return new CliError(code, `${what} failed: ${detail}`);
  }
}
